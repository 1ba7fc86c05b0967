//! What differs between the three contactless profiles: kernel, AIP, the DOLs the card asks
//! for, and where the cryptogram is produced.
//!
//! All three are online-only: the AIP sets no SDA/DDA/CDA bit, so a terminal never attempts
//! offline data authentication and every tap goes to the issuer with an ARQC.

use crate::card::Scheme;

/// Static rules of one scheme profile.
pub(crate) struct SchemeRules {
    /// Kernel identifier (9F2A) announced in the PPSE directory entry (EMV Book B): 2 =
    /// Mastercard (C-2), 3 = Visa (C-3), 7 = UnionPay (C-7).
    pub kernel_id: u8,
    /// Application interchange profile (82).
    pub aip: [u8; 2],
    /// PDOL (9F38 value) sent in the FCI; empty means "no PDOL" (the terminal sends `83 00`).
    pub pdol: &'static [u8],
    /// CDOL1 (8C value) in the records; empty when the cryptogram comes with the GPO.
    pub cdol1: &'static [u8],
    /// Language preference (5F2D).
    pub language: &'static [u8],
    /// Whether the ARQC is returned in the GPO response (qVSDC, qPBOC) rather than in
    /// GENERATE AC (M/Chip).
    pub cryptogram_in_gpo: bool,
}

/// qVSDC / qPBOC PDOL: TTQ, then the eight fields every cryptogram version covers
/// (emv-card-simulator's Visa profile uses the same list).
const PDOL_QUICK: &[u8] = &[
    0x9F, 0x66, 0x04, // TTQ
    0x9F, 0x02, 0x06, // amount authorised
    0x9F, 0x03, 0x06, // amount other
    0x9F, 0x1A, 0x02, // terminal country
    0x95, 0x05, // TVR
    0x5F, 0x2A, 0x02, // transaction currency
    0x9A, 0x03, // transaction date
    0x9C, 0x01, // transaction type
    0x9F, 0x37, 0x04, // unpredictable number
];

/// M/Chip CDOL1: the eight covered fields first (as M/Chip cards order them), then terminal
/// type and CVM results, which the card reads but does not MAC.
const CDOL1_MCHIP: &[u8] = &[
    0x9F, 0x02, 0x06, 0x9F, 0x03, 0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A, 0x02, 0x9A, 0x03,
    0x9C, 0x01, 0x9F, 0x37, 0x04, //
    0x9F, 0x35, 0x01, // terminal type
    0x9F, 0x34, 0x03, // CVM results
];

static VISA: SchemeRules = SchemeRules {
    kernel_id: 0x03,
    // No ODA bits; byte 2 bit 8 would announce MSD, which this card does not do.
    aip: [0x00, 0x00],
    pdol: PDOL_QUICK,
    cdol1: &[],
    language: b"en",
    cryptogram_in_gpo: true,
};

static UNIONPAY: SchemeRules = SchemeRules {
    kernel_id: 0x07,
    aip: [0x00, 0x00],
    pdol: PDOL_QUICK,
    cdol1: &[],
    language: b"zhen",
    cryptogram_in_gpo: true,
};

static MASTERCARD: SchemeRules = SchemeRules {
    kernel_id: 0x02,
    // Byte 1 bit 2: on-device cardholder verification supported (kernel 2 then treats a
    // confirmed CDCVM as the CVM above the reader's limit); byte 2 bit 8: EMV mode.
    // No SDA/DDA/CDA: online-only.
    aip: [0x02, 0x80],
    pdol: &[],
    cdol1: CDOL1_MCHIP,
    language: b"en",
    cryptogram_in_gpo: false,
};

pub(crate) fn rules(scheme: Scheme) -> &'static SchemeRules {
    match scheme {
        Scheme::Visa => &VISA,
        Scheme::UnionPay => &UNIONPAY,
        Scheme::Mastercard => &MASTERCARD,
    }
}

/// Terminal Transaction Qualifiers (9F66) bits the card looks at (openemv emv-utils; qPBOC
/// uses the same positions per JR/T 0025.12).
pub(crate) mod ttq {
    /// Byte 1: the reader supports qVSDC (Visa) / qPBOC (UnionPay).
    pub const B1_QUICK_EMV: u8 = 0x20;
    /// Byte 2: the reader requires a CVM for this transaction (amount above its CVM limit).
    pub const B2_CVM_REQUIRED: u8 = 0x40;
}

/// Card Transaction Qualifiers (9F6C) bits the card sets.
pub(crate) mod ctq {
    /// Byte 2: consumer device CVM performed. A hint for the terminal only: the binding
    /// statement is the CVR inside the IAD, which the cryptogram covers.
    pub const B2_CDCVM_PERFORMED: u8 = 0x80;
}

/// POS Cardholder Interaction Information (DF4B, 3 bytes) bits, as kernel 2 reads them
/// (MohamedHassanNasr/emv `TAG_POS_CARDHOLDER_INTERACTION_INFO_DF4B`, Book C-2 S910.71).
pub(crate) mod poscii {
    /// Byte 2: on-device CVM verification successful.
    pub const B2_OD_CVM_SUCCESSFUL: u8 = 0x10;
    /// Byte 2: on-device CVM required — with an AAC this makes kernel 2 end the
    /// transaction with "see phone" and wait for a second tap.
    pub const B2_OD_CVM_REQUIRED: u8 = 0x01;
}
