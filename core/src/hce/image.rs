//! A card's static answers, built once when the wallet hands the engine its cards: the FCI,
//! the records and the parsed DOLs. SELECT and READ RECORD then only copy bytes, and the GPO
//! path does nothing but the cryptogram and one small TLV.

use super::scheme::{SchemeRules, rules};
use crate::card::{CardProfile, PPSE};
use crate::emv::bcd;
use crate::emv::dol::{self, DolEntry};
use crate::emv::tlv::{Tag, encode, encode_into};

/// Why a profile cannot be put on the card.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("card {card_id}: {reason}")]
    Invalid {
        card_id: String,
        reason: &'static str,
    },
}

/// Short file identifier and record number of one record.
pub(crate) type RecordId = (u8, u8);

pub(crate) struct CardImage {
    pub profile: CardProfile,
    pub rules: &'static SchemeRules,
    /// SELECT AID response data (6F template).
    pub fci: Vec<u8>,
    pub pdol: Vec<DolEntry>,
    pub cdol1: Vec<DolEntry>,
    pub afl: Vec<u8>,
    pub records: Vec<(RecordId, Vec<u8>)>,
    /// Track 2 equivalent data (57).
    pub track2: Vec<u8>,
    /// `82 AIP 94 AFL` — the start of every GPO response, encoded once.
    pub gpo_head: Vec<u8>,
}

impl CardImage {
    pub fn build(profile: CardProfile) -> Result<Self, ProfileError> {
        let invalid = |reason| ProfileError::Invalid {
            card_id: profile.id.clone(),
            reason,
        };
        let rules = rules(profile.scheme);
        if !(5..=16).contains(&profile.aid.len()) {
            return Err(invalid("AID must be 5 to 16 bytes"));
        }
        let pan = bcd::encode_cn(&profile.token_pan)
            .filter(|_| (12..=19).contains(&profile.token_pan.len()))
            .ok_or_else(|| invalid("token PAN must be 12 to 19 digits"))?;
        let (yy, mm) =
            parse_expiry(&profile.expiry).ok_or_else(|| invalid("expiry must be YYMM"))?;
        let pdol = dol::parse(rules.pdol).map_err(|_| invalid("scheme PDOL does not parse"))?;
        let cdol1 = dol::parse(rules.cdol1).map_err(|_| invalid("scheme CDOL1 does not parse"))?;

        let track2 =
            track2(&profile.token_pan, &profile.expiry).ok_or_else(|| invalid("track 2"))?;
        let expiry_date = bcd::date(2000 + u16::from(yy), mm, last_day_of_month(yy, mm))
            .ok_or_else(|| invalid("expiry"))?;
        let country =
            bcd::code_n3(profile.issuer_country).ok_or_else(|| invalid("issuer country > 999"))?;

        // Records the AFL points at. The AFL's fourth byte (records for ODA) is always 0.
        let mut afl = vec![0x08, 0x01, 0x01, 0x00];
        let mut records = Vec::new();
        if rules.cryptogram_in_gpo {
            // qVSDC / qPBOC: track 2 and PSN came with the GPO; the record carries the rest.
            let mut r = Vec::new();
            encode_into(&mut r, Tag(0x5A), &pan);
            encode_into(&mut r, Tag(0x5F24), &expiry_date);
            encode_into(&mut r, Tag(0x5F28), &country);
            records.push(((1, 1), encode(Tag(0x70), &r)));
        } else {
            // M/Chip: everything the terminal needs for GENERATE AC comes from the records.
            afl.extend_from_slice(&[0x10, 0x01, 0x01, 0x00]);
            records.push(((1, 1), encode(Tag(0x70), &encode(Tag(0x57), &track2))));
            let mut r = Vec::new();
            encode_into(&mut r, Tag(0x5A), &pan);
            encode_into(&mut r, Tag(0x5F24), &expiry_date);
            encode_into(&mut r, Tag(0x5F28), &country);
            encode_into(&mut r, Tag(0x5F34), &[profile.psn]);
            encode_into(&mut r, Tag(0x8C), rules.cdol1);
            records.push(((2, 1), encode(Tag(0x70), &r)));
        }

        let mut a5 = Vec::new();
        encode_into(&mut a5, Tag(0x50), &label_bytes(&profile.label));
        encode_into(&mut a5, Tag(0x87), &[0x01]);
        if !rules.pdol.is_empty() {
            encode_into(&mut a5, Tag(0x9F38), rules.pdol);
        }
        encode_into(&mut a5, Tag(0x5F2D), rules.language);
        let mut fci_body = encode(Tag(0x84), &profile.aid);
        encode_into(&mut fci_body, Tag(0xA5), &a5);
        let fci = encode(Tag(0x6F), &fci_body);

        let mut gpo_head = encode(Tag(0x82), &rules.aip);
        encode_into(&mut gpo_head, Tag(0x94), &afl);

        Ok(Self {
            profile,
            rules,
            fci,
            pdol,
            cdol1,
            afl,
            records,
            track2,
            gpo_head,
        })
    }

    /// Whether the AFL lists `sfi`, and whether it lists `record` within it.
    pub fn afl_covers(&self, sfi: u8, record: u8) -> (bool, bool) {
        let mut sfi_listed = false;
        for entry in self.afl.chunks_exact(4) {
            if let [s, first, last, _] = *entry
                && s >> 3 == sfi
            {
                sfi_listed = true;
                if (first..=last).contains(&record) {
                    return (true, true);
                }
            }
        }
        (sfi_listed, false)
    }

    pub fn record(&self, sfi: u8, record: u8) -> Option<&[u8]> {
        self.records
            .iter()
            .find(|(id, _)| *id == (sfi, record))
            .map(|(_, r)| r.as_slice())
    }
}

/// SELECT PPSE response: one directory entry per distinct AID, in the order given (default
/// card first), priorities 1, 2, … (capped at 15, the largest the 87 encoding allows).
pub(crate) fn ppse_fci(cards: &[CardImage]) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut listed: Vec<&[u8]> = Vec::new();
    for card in cards {
        let aid = card.profile.aid.as_slice();
        if listed.contains(&aid) {
            // Two cards of one scheme share an AID; a terminal can only select the first.
            continue;
        }
        listed.push(aid);
        let priority = u8::try_from(listed.len()).unwrap_or(15).min(15);
        let mut e = encode(Tag(0x4F), aid);
        encode_into(&mut e, Tag(0x50), &label_bytes(&card.profile.label));
        encode_into(&mut e, Tag(0x87), &[priority]);
        encode_into(&mut e, Tag(0x9F2A), &[card.rules.kernel_id]);
        encode_into(&mut entries, Tag(0x61), &e);
    }
    let mut body = encode(Tag(0x84), PPSE);
    encode_into(&mut body, Tag(0xA5), &encode(Tag(0xBF0C), &entries));
    encode(Tag(0x6F), &body)
}

/// Application label (50): `an`, 1–16 characters; anything else is replaced or cut.
fn label_bytes(label: &str) -> Vec<u8> {
    let mut out: Vec<u8> = label
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c as u8
            } else {
                b'?'
            }
        })
        .take(16)
        .collect();
    if out.is_empty() {
        out.extend_from_slice(b"CARD");
    }
    out
}

fn parse_expiry(expiry: &str) -> Option<(u8, u8)> {
    let (yy, mm) = expiry.split_at_checked(2)?;
    if expiry.len() != 4 || !expiry.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (yy, mm) = (yy.parse::<u8>().ok()?, mm.parse::<u8>().ok()?);
    (1..=12).contains(&mm).then_some((yy, mm))
}

fn last_day_of_month(yy: u8, mm: u8) -> u8 {
    match mm {
        2 if yy.is_multiple_of(4) => 29, // 2000-2099: every fourth year is a leap year
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Track 2 equivalent data: PAN `D` YYMM, service code 201 (international, IC card, normal
/// authorisation), discretionary data, padded with `F` to whole bytes.
fn track2(pan: &str, expiry: &str) -> Option<Vec<u8>> {
    let mut s = format!("{pan}D{expiry}2010000000000");
    if s.len() % 2 == 1 {
        s.push('F');
    }
    hex::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_and_track2() {
        assert_eq!(parse_expiry("2812"), Some((28, 12)));
        assert_eq!(parse_expiry("2813"), None);
        assert_eq!(parse_expiry("281"), None);
        assert_eq!(last_day_of_month(28, 2), 29);
        assert_eq!(last_day_of_month(27, 2), 28);
        let t2 = track2("4111111111111111", "2812").unwrap();
        assert_eq!(hex::encode_upper(&t2), "4111111111111111D28122010000000000");
        // A 19-digit PAN still fits track 2's 19 bytes, padded with F.
        let t2 = track2("6212345678901234567", "2812").unwrap();
        assert_eq!((t2.len(), t2.last()), (19, Some(&0x0F)));
    }
}
