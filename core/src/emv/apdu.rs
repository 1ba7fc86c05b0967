//! ISO 7816-4 command and response APDUs.

use std::fmt;

/// An ISO 7816-4 status word.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: Self = Self(0x9000);
    pub const WRONG_LENGTH: Self = Self(0x6700);
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    pub const WRONG_DATA: Self = Self(0x6A80);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const RECORD_NOT_FOUND: Self = Self(0x6A83);
    pub const INCORRECT_P1P2: Self = Self(0x6A86);
    pub const REFERENCED_DATA_NOT_FOUND: Self = Self(0x6A88);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    pub const NO_PRECISE_DIAGNOSIS: Self = Self(0x6F00);
    pub const SECURITY_STATUS_NOT_SATISFIED: Self = Self(0x6982);
    pub const FUNCTION_NOT_SUPPORTED: Self = Self(0x6A81);
    pub const WRONG_P1P2: Self = Self(0x6B00);

    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }
    pub fn sw2(self) -> u8 {
        self.0 as u8
    }
    /// `90 00` or `61 xx` (more data available).
    pub fn is_success(self) -> bool {
        self.0 == 0x9000 || self.sw1() == 0x61
    }

    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW {:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// A parsed command APDU (cases 1–4, short and extended). `data` borrows the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    /// Expected response length; `Some(256)` for a short Le of `00`, `Some(65536)` for an
    /// extended Le of `0000`.
    pub le: Option<usize>,
}

impl<'a> Command<'a> {
    /// Parse raw bytes. Fewer than 4 bytes, or an Lc/Le that does not match the length,
    /// is [`StatusWord::WRONG_LENGTH`].
    ///
    /// ISO 7816-4 §5.1: after the header, case 1 has nothing; case 2 only Le; case 3 Lc and
    /// data; case 4 Lc, data and Le. A first body byte of `00` followed by at least two more
    /// bytes selects the extended form (3-byte Le or Lc, 2-byte trailing Le); a short Lc of
    /// `00` does not exist, so the two forms never overlap.
    pub fn parse(raw: &'a [u8]) -> Result<Self, StatusWord> {
        const WRONG: StatusWord = StatusWord::WRONG_LENGTH;
        let (header, body) = raw.split_first_chunk::<4>().ok_or(WRONG)?;
        let [cla, ins, p1, p2] = *header;
        let cmd = |data: &'a [u8], le: Option<usize>| Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        };
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let extended_le = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
            0 => 65_536,
            n => usize::from(n),
        };
        match *body {
            // Case 1.
            [] => Ok(cmd(&[], None)),
            // Case 2 short.
            [le] => Ok(cmd(&[], Some(short_le(le)))),
            // Case 2 extended.
            [0, hi, lo] => Ok(cmd(&[], Some(extended_le(hi, lo)))),
            // Cases 3 and 4 extended.
            [0, hi, lo, ref rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([hi, lo]));
                if lc == 0 {
                    return Err(WRONG);
                }
                match rest.split_at_checked(lc) {
                    Some((data, [])) => Ok(cmd(data, None)),
                    Some((data, &[hi, lo])) => Ok(cmd(data, Some(extended_le(hi, lo)))),
                    _ => Err(WRONG),
                }
            }
            // Cases 3 and 4 short.
            [lc, ref rest @ ..] if lc != 0 => match rest.split_at_checked(usize::from(lc)) {
                Some((data, [])) => Ok(cmd(data, None)),
                Some((data, &[le])) => Ok(cmd(data, Some(short_le(le)))),
                _ => Err(WRONG),
            },
            // `00 xx`: neither a short Lc (never zero) nor an extended field.
            _ => Err(WRONG),
        }
    }

    /// Encode (short form when it fits, extended otherwise); the terminal side uses this.
    ///
    /// `le` of `Some(0)` is encoded as no Le; values above 65 536 as 65 536 (`00 00`). Data
    /// longer than 65 535 bytes cannot be carried by any APDU and is cut at that length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let data = self.data.get(..65_535).unwrap_or(self.data);
        let le = self.le.filter(|&n| n > 0).map(|n| n.min(65_536));
        let extended = data.len() > 255 || le.is_some_and(|n| n > 256);
        let mut out = Vec::with_capacity(data.len() + 9);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if extended {
            // Only the first length field carries the 00 marker.
            out.push(0);
            if !data.is_empty() {
                out.extend_from_slice(&(data.len() as u16).to_be_bytes());
                out.extend_from_slice(data);
            }
            if let Some(n) = le {
                out.extend_from_slice(&((n % 65_536) as u16).to_be_bytes());
            }
        } else {
            if !data.is_empty() {
                out.push(data.len() as u8);
                out.extend_from_slice(data);
            }
            if let Some(n) = le {
                out.push((n % 256) as u8);
            }
        }
        out
    }
}

/// `data | SW1 SW2`.
pub fn response(data: &[u8], sw: StatusWord) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&sw.to_bytes());
    out
}

/// Split a response APDU into data and status word; `None` if shorter than 2 bytes.
pub fn split_response(raw: &[u8]) -> Option<(&[u8], StatusWord)> {
    let (data, sw) = raw.split_at_checked(raw.len().checked_sub(2)?)?;
    Some((data, StatusWord(u16::from_be_bytes([sw[0], sw[1]]))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    fn parse(s: &str) -> Result<(Vec<u8>, Option<usize>), StatusWord> {
        let raw = h(s);
        Command::parse(&raw).map(|c| (c.data.to_vec(), c.le))
    }

    #[test]
    fn the_four_cases_short() {
        assert_eq!(parse("00A40400"), Ok((vec![], None)));
        assert_eq!(parse("80CA9F3600"), Ok((vec![], Some(256))));
        assert_eq!(parse("80CA9F3605"), Ok((vec![], Some(5))));
        assert_eq!(parse("00A4040002 3F00"), Ok((h("3F00"), None)));
        assert_eq!(
            parse("00A404000E 325041592E5359532E4444463031 00"),
            Ok((b"2PAY.SYS.DDF01".to_vec(), Some(256)))
        );
        let raw = h("80A8000002830000");
        let c = Command::parse(&raw).unwrap();
        assert_eq!((c.cla, c.ins, c.p1, c.p2), (0x80, 0xA8, 0, 0));
    }

    #[test]
    fn the_four_cases_extended() {
        assert_eq!(parse("00B00000 000000"), Ok((vec![], Some(65_536))));
        assert_eq!(parse("00B00000 000102"), Ok((vec![], Some(258))));
        let data = vec![0x5A; 300];
        let mut raw = h("80AE8000 00012C");
        raw.extend_from_slice(&data);
        assert_eq!(Command::parse(&raw).map(|c| c.le), Ok(None));
        raw.extend_from_slice(&[0x00, 0x00]);
        let c = Command::parse(&raw).unwrap();
        assert_eq!((c.data, c.le), (&data[..], Some(65_536)));
    }

    #[test]
    fn inconsistent_lengths_are_6700() {
        for bad in [
            "",
            "00",
            "00A404",
            "00A4040002 3F",         // Lc says 2, one byte follows
            "00A4040002 3F000000",   // two bytes too many
            "00A40400 0000",         // 00 then one byte
            "00A40400 000000 01",    // extended Lc of zero
            "00A40400 000002 3F",    // extended, short of data
            "00A40400 000001 3F 00", // extended Le must be two bytes
        ] {
            assert_eq!(parse(bad), Err(StatusWord::WRONG_LENGTH), "{bad}");
        }
    }

    #[test]
    fn encode_round_trips_in_both_forms() {
        let long = vec![7u8; 256];
        for (data, le) in [
            (&[][..], None),
            (&[][..], Some(1)),
            (&[][..], Some(256)),
            (&[][..], Some(257)),
            (&[][..], Some(65_536)),
            (&[1, 2, 3][..], None),
            (&[1, 2, 3][..], Some(256)),
            (&[1, 2, 3][..], Some(1000)),
            (&long[..], None),
            (&long[..], Some(2)),
        ] {
            let cmd = Command {
                cla: 0x80,
                ins: 0xA8,
                p1: 0,
                p2: 0,
                data,
                le,
            };
            let raw = cmd.to_bytes();
            assert_eq!(Command::parse(&raw), Ok(cmd), "{}", hex::encode(&raw));
        }
        let gpo = Command {
            cla: 0x80,
            ins: 0xA8,
            p1: 0,
            p2: 0,
            data: &[0x83, 0x00],
            le: Some(256),
        };
        assert_eq!(gpo.to_bytes(), h("80A8000002830000"));
    }

    #[test]
    fn responses() {
        assert_eq!(response(&[0x6F], StatusWord::OK), vec![0x6F, 0x90, 0x00]);
        assert_eq!(
            split_response(&[0x6A, 0x82]),
            Some((&[][..], StatusWord::FILE_NOT_FOUND))
        );
        assert_eq!(split_response(&[0x90]), None);
        assert!(StatusWord(0x6110).is_success());
        assert_eq!(StatusWord::WRONG_LENGTH.to_string(), "6700");
    }
}
