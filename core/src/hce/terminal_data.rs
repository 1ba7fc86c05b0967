//! The transaction data a terminal sends as PDOL data (GPO) or CDOL1 data (GENERATE AC).

use crate::emv::apdu::StatusWord;
use crate::emv::bcd::decode_n;
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
        if td.amount_minor().is_none() || decode_n(&td.amount_other).is_none() {
            return Err(StatusWord::WRONG_DATA);
        }
        Ok(td)
    }

    /// Amount authorised in minor units.
    pub fn amount_minor(&self) -> Option<u64> {
        decode_n(&self.amount)
    }

    pub fn currency_code(&self) -> Option<u16> {
        decode_n(&self.currency).and_then(|v| u16::try_from(v).ok())
    }

    pub fn country_code(&self) -> Option<u16> {
        decode_n(&self.country).and_then(|v| u16::try_from(v).ok())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_along_the_dol() {
        let dol = dol::parse(&[
            0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x5F, 0x2A, 0x02, 0x9C, 0x01,
        ])
        .unwrap();
        let data = [
            0x36, 0x80, 0x40, 0x00, 0, 0, 0, 0, 0x12, 0x34, 0x09, 0x78, 0x20,
        ];
        let td = TerminalData::parse(&dol, &data).unwrap();
        assert_eq!(td.ttq, Some([0x36, 0x80, 0x40, 0x00]));
        assert_eq!(td.amount_minor(), Some(1234));
        assert_eq!(td.currency_code(), Some(978));
        assert_eq!(td.country_code(), Some(0));
        assert_eq!(td.txn_type, 0x20);
        assert_eq!(
            TerminalData::parse(&dol, &data[1..]),
            Err(StatusWord::WRONG_LENGTH)
        );
        let mut bad = data;
        bad[9] = 0x3A;
        assert_eq!(TerminalData::parse(&dol, &bad), Err(StatusWord::WRONG_DATA));
    }
}
