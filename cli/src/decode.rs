//! Human-readable APDU traces: command names and response TLV trees with EMV tag names.

use wallet_core::emv::apdu::{Command, split_response};
use wallet_core::emv::tlv::{self, Tag};

pub fn command_name(raw: &[u8]) -> String {
    let Ok(cmd) = Command::parse(raw) else {
        return "(malformed command)".into();
    };
    match (cmd.cla, cmd.ins) {
        (0x00, 0xA4) if cmd.data == wallet_core::card::PPSE => "SELECT PPSE".into(),
        (0x00, 0xA4) => format!("SELECT {}", hex::encode_upper(cmd.data)),
        (0x80, 0xA8) => "GET PROCESSING OPTIONS".into(),
        (0x00, 0xB2) => format!("READ RECORD SFI {} #{}", cmd.p2 >> 3, cmd.p1),
        (0x80, 0xAE) => {
            let kind = match cmd.p1 & 0xC0 {
                0x80 => "ARQC",
                0x40 => "TC",
                _ => "AAC",
            };
            format!("GENERATE AC ({kind})")
        }
        (0x80, 0xCA) | (0x00, 0xCA) => format!("GET DATA {:02X}{:02X}", cmd.p1, cmd.p2),
        (cla, ins) => format!("CLA {cla:02X} INS {ins:02X}"),
    }
}

/// The response's data as an indented TLV tree (or raw hex when it is not TLV), then the SW.
pub fn response_tree(raw: &[u8], indent: &str) -> String {
    let Some((data, sw)) = split_response(raw) else {
        return format!("{indent}(no status word)\n");
    };
    let mut out = String::new();
    if !data.is_empty() {
        if tlv::parse_all(data).is_ok() {
            tree(data, indent, 0, &mut out);
        } else {
            out.push_str(&format!("{indent}{}\n", hex::encode_upper(data)));
        }
    }
    out.push_str(&format!("{indent}SW {sw}\n"));
    out
}

fn tree(data: &[u8], indent: &str, depth: usize, out: &mut String) {
    let Ok(objects) = tlv::parse_all(data) else {
        return;
    };
    for o in objects {
        let pad = "  ".repeat(depth);
        let name = tag_name(o.tag);
        if o.tag.is_constructed() && depth < tlv::MAX_DEPTH {
            out.push_str(&format!("{indent}{pad}{} {name}\n", o.tag));
            tree(o.value, indent, depth + 1, out);
        } else {
            let shown = if is_text(o.tag) {
                format!("\"{}\"", String::from_utf8_lossy(o.value))
            } else {
                hex::encode_upper(o.value)
            };
            out.push_str(&format!("{indent}{pad}{} {name}: {shown}\n", o.tag));
        }
    }
}

fn is_text(tag: Tag) -> bool {
    matches!(tag.0, 0x50 | 0x5F2D | 0x9F12 | 0x5F20)
}

fn tag_name(tag: Tag) -> &'static str {
    match tag.0 {
        0x4F => "AID",
        0x50 => "Application Label",
        0x57 => "Track 2 Equivalent",
        0x5A => "PAN",
        0x5F20 => "Cardholder Name",
        0x5F24 => "Expiry",
        0x5F25 => "Effective Date",
        0x5F28 => "Issuer Country",
        0x5F2D => "Language Preference",
        0x5F34 => "PAN Sequence Number",
        0x61 => "Application Template",
        0x6F => "FCI Template",
        0x70 => "Record Template",
        0x77 => "Response Template (format 2)",
        0x80 => "Response (format 1)",
        0x82 => "AIP",
        0x84 => "DF Name",
        0x87 => "Priority",
        0x8C => "CDOL1",
        0x8D => "CDOL2",
        0x8E => "CVM List",
        0x94 => "AFL",
        0x9F07 => "Application Usage Control",
        0x9F08 => "Application Version",
        0x9F10 => "Issuer Application Data",
        0x9F26 => "Application Cryptogram",
        0x9F27 => "CID",
        0x9F2A => "Kernel Identifier",
        0x9F36 => "ATC",
        0x9F38 => "PDOL",
        0x9F42 => "Application Currency",
        0x9F4D => "Log Entry",
        0x9F5D => "Available Offline Spending",
        0x9F6C => "CTQ",
        0x9F6E => "Form Factor / Third Party Data",
        0xA5 => "FCI Proprietary Template",
        0xBF0C => "FCI Issuer Discretionary Data",
        0xDF4B => "POS Cardholder Interaction Information",
        _ => "",
    }
}
