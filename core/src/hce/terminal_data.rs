//! The transaction data a terminal sends as PDOL data (GPO) or CDOL1 data (GENERATE AC).

use crate::emv::apdu::StatusWord;
use crate::emv::cvn::AcInput;
use crate::emv::dol::{self, DolEntry};
use crate::emv::tlv::Tag;

/// What the terminal told the card about the transaction. Fields the DOL did not ask for
/// stay zero, which is also what the terminal would have sent for an unknown tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TerminalData {
    pub amount: [u8; 6],
    pub amount_other: [u8; 6],
    pub country: [u8; 2],
    pub tvr: [u8; 5],
    pub currency: [u8; 2],
    pub date: [u8; 3],
    pub txn_type: u8,
    pub un: [u8; 4],
    pub ttq: Option<[u8; 4]>,
}

impl TerminalData {
    /// Cut `data` along `dol`. A length that does not match the DOL is 6700 (the terminal
    /// built its data for another card); an amount that is not BCD is 6A80.
    pub fn parse(dol: &[DolEntry], data: &[u8]) -> Result<Self, StatusWord> {
        let values = dol::split(dol, data).map_err(|_| StatusWord::WRONG_LENGTH)?;
        let mut td = TerminalData::default();
        for (tag, value) in values {
            match tag {
                Tag(0x9F02) => copy(&mut td.amount, value),
                Tag(0x9F03) => copy(&mut td.amount_other, value),
                Tag(0x9F1A) => copy(&mut td.country, value),
                Tag(0x95) => copy(&mut td.tvr, value),
                Tag(0x5F2A) => copy(&mut td.currency, value),
                Tag(0x9A) => copy(&mut td.date, value),
                Tag(0x9C) => {
                    if let [t] = value {
                        td.txn_type = *t;
                    }
                }
                Tag(0x9F37) => copy(&mut td.un, value),
                Tag(0x9F66) => copy(td.ttq.get_or_insert([0; 4]), value),
                _ => {}
            }
        }
        if td.amount_minor().is_none() || bcd_to_u64(&td.amount_other).is_none() {
            return Err(StatusWord::WRONG_DATA);
        }
        Ok(td)
    }

    /// Amount authorised in minor units.
    pub fn amount_minor(&self) -> Option<u64> {
        bcd_to_u64(&self.amount)
    }

    pub fn currency_code(&self) -> Option<u16> {
        bcd_to_u64(&self.currency).and_then(|v| u16::try_from(v).ok())
    }

    pub fn country_code(&self) -> Option<u16> {
        bcd_to_u64(&self.country).and_then(|v| u16::try_from(v).ok())
    }

    /// The data the application cryptogram covers, with the card's own AIP, ATC and IAD.
    pub fn ac_input(&self, aip: [u8; 2], atc: u16, iad: Vec<u8>) -> AcInput {
        AcInput {
            amount: self.amount,
            amount_other: self.amount_other,
            terminal_country: self.country,
            tvr: self.tvr,
            currency: self.currency,
            date: self.date,
            txn_type: self.txn_type,
            un: self.un,
            aip,
            atc,
            iad,
        }
    }
}

/// `dol::split` hands back exactly the DOL's lengths, and the card's DOLs use each field's
/// EMV length, so the copies below always fit; a mismatch would leave the field zero.
fn copy<const N: usize>(dst: &mut [u8; N], src: &[u8]) {
    if let Ok(v) = <[u8; N]>::try_from(src) {
        *dst = v;
    }
}

fn bcd_to_u64(bcd: &[u8]) -> Option<u64> {
    bcd.iter().try_fold(0u64, |acc, b| {
        let (hi, lo) = (u64::from(b >> 4), u64::from(b & 0x0F));
        (hi < 10 && lo < 10).then(|| acc * 100 + hi * 10 + lo)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_amounts() {
        assert_eq!(bcd_to_u64(&[0, 0, 0, 0, 0x12, 0x34]), Some(1234));
        assert_eq!(
            bcd_to_u64(&[0x99, 0x99, 0x99, 0x99, 0x99, 0x99]),
            Some(999_999_999_999)
        );
        assert_eq!(bcd_to_u64(&[0, 0, 0, 0, 0x1A, 0x34]), None);
        assert_eq!(bcd_to_u64(&[0x01, 0x56]), Some(156));
    }
}
