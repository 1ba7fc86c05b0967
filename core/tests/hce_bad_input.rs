//! Malformed and out-of-order commands: the exact status word, and not a single key spent.

mod hce_support;

use hce_support::*;
use wallet_core::card::{AID_MASTERCARD, AID_VISA, Scheme};
use wallet_core::emv::cvn::Cvn;
use wallet_core::hce::Engine;
use wallet_core::ledger::KeyLedger;

/// Where the session is before the bad command.
#[derive(Clone, Copy, Debug)]
enum Before {
    Nothing,
    Ppse,
    SelectedVisa,
    SelectedMastercard,
    /// Mastercard after GPO (records readable, GENERATE AC next).
    MastercardInitiated,
    /// Visa after its cryptogram.
    VisaDone,
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).expect("test hex")
}

fn gpo_raw(body: &[u8]) -> Vec<u8> {
    let mut c = vec![0x80, 0xA8, 0x00, 0x00, body.len() as u8];
    c.extend_from_slice(body);
    c.push(0x00);
    c
}

#[test]
fn malformed_commands_get_exact_status_words_and_spend_no_key() {
    let good_pdol = pdol_data(100, ttq(false), [1, 2, 3, 4]);
    let mut non_bcd_amount = good_pdol.clone();
    non_bcd_amount[4 + 5] = 0x1A;
    let mut no_qvsdc_ttq = good_pdol.clone();
    no_qvsdc_ttq[0] = 0x80; // MSD only
    let mut gpo_short_le = gpo(&good_pdol);
    *gpo_short_le.last_mut().unwrap() = 0x20;

    let cases: Vec<(&str, Before, Vec<u8>, u16)> = vec![
        // Length
        ("empty", Before::Nothing, vec![], 0x6700),
        (
            "three bytes",
            Before::Nothing,
            vec![0x00, 0xA4, 0x04],
            0x6700,
        ),
        (
            "Lc longer than data",
            Before::Nothing,
            hex("00A40400 07 A0000000031 0"),
            0x6700,
        ),
        (
            "Lc shorter than data, no Le fits",
            Before::Nothing,
            hex("00A40400 02 A0000000 0310"),
            0x6700,
        ),
        (
            "Lc zero in short form",
            Before::Nothing,
            hex("00A40400 00 00 00"),
            0x6700,
        ),
        (
            "SELECT without a name",
            Before::Nothing,
            hex("00A40400 00"),
            0x6700,
        ),
        (
            "READ RECORD with data",
            Before::MastercardInitiated,
            hex("00B2010C 01 00 00"),
            0x6700,
        ),
        (
            "GET DATA with data",
            Before::VisaDone,
            hex("80CA9F36 01 00 00"),
            0x6700,
        ),
        (
            "GPO without data",
            Before::SelectedVisa,
            hex("80A80000 00"),
            0x6700,
        ),
        (
            "GPO Le too short for the answer",
            Before::SelectedVisa,
            gpo_short_le,
            0x6700,
        ),
        // Class and instruction
        (
            "unknown CLA",
            Before::Nothing,
            hex("90A40400 0E 325041592E5359532E4444463031 00"),
            0x6E00,
        ),
        (
            "PC/SC pseudo-APDU class",
            Before::Nothing,
            hex("FFCA0000 00"),
            0x6E00,
        ),
        (
            "secure messaging class",
            Before::Nothing,
            hex("0CA40400 0E 325041592E5359532E4444463031 00"),
            0x6E00,
        ),
        (
            "GPO with ISO class",
            Before::SelectedVisa,
            hex("00A80000 02 8300 00"),
            0x6E00,
        ),
        (
            "SELECT with proprietary class",
            Before::Nothing,
            hex("80A40400 0E 325041592E5359532E4444463031 00"),
            0x6E00,
        ),
        (
            "unknown INS (VERIFY)",
            Before::SelectedVisa,
            hex("00200080 08 241234FFFFFFFFFF"),
            0x6D00,
        ),
        (
            "unknown INS (GET RESPONSE)",
            Before::Nothing,
            hex("00C00000 00"),
            0x6D00,
        ),
        (
            "unknown INS (GET CHALLENGE)",
            Before::SelectedVisa,
            hex("00840000 08"),
            0x6D00,
        ),
        // Parameters
        (
            "SELECT by file id",
            Before::Nothing,
            hex("00A40000 02 3F00 00"),
            0x6A86,
        ),
        (
            "SELECT with FCP P2",
            Before::Nothing,
            hex("00A4040C 07 A0000000031010"),
            0x6A86,
        ),
        (
            "GPO with P1",
            Before::SelectedVisa,
            {
                let mut c = gpo(&good_pdol);
                c[2] = 1;
                c
            },
            0x6A86,
        ),
        (
            "READ RECORD 0",
            Before::MastercardInitiated,
            read_record(1, 0),
            0x6A86,
        ),
        (
            "READ RECORD by record id P2",
            Before::MastercardInitiated,
            hex("00B2010D 00"),
            0x6A86,
        ),
        (
            "READ RECORD SFI 0",
            Before::MastercardInitiated,
            hex("00B20104 00"),
            0x6A86,
        ),
        (
            "GENERATE AC RFU type",
            Before::MastercardInitiated,
            generate_ac(0xC0, &cdol1_data(100, [0; 4])),
            0x6A86,
        ),
        (
            "GENERATE AC RFU bit",
            Before::MastercardInitiated,
            generate_ac(0x81, &cdol1_data(100, [0; 4])),
            0x6A86,
        ),
        (
            "GENERATE AC with P2",
            Before::MastercardInitiated,
            {
                let mut c = generate_ac(0x80, &cdol1_data(100, [0; 4]));
                c[3] = 1;
                c
            },
            0x6A86,
        ),
        // Files and records
        (
            "unknown AID",
            Before::Nothing,
            select(&hex("A0000000999999")),
            0x6A82,
        ),
        (
            "AID longer than 16 bytes",
            Before::Nothing,
            select(&[0xA0; 17]),
            0x6A82,
        ),
        (
            "partial name shorter than a RID",
            Before::Nothing,
            select(&hex("A000")),
            0x6A82,
        ),
        (
            "PPSE next occurrence",
            Before::Nothing,
            {
                let mut c = select_ppse();
                c[3] = 0x02;
                c
            },
            0x6A82,
        ),
        (
            "READ RECORD outside the AFL (SFI)",
            Before::MastercardInitiated,
            read_record(3, 1),
            0x6A82,
        ),
        (
            "READ RECORD outside the AFL (record)",
            Before::MastercardInitiated,
            read_record(1, 2),
            0x6A83,
        ),
        (
            "READ RECORD outside the AFL (Visa)",
            Before::VisaDone,
            read_record(2, 1),
            0x6A82,
        ),
        (
            "GET DATA of another object",
            Before::VisaDone,
            hex("80CA9F17 00"),
            0x6A88,
        ),
        (
            "GET DATA ATC before any cryptogram",
            Before::SelectedVisa,
            hex("80CA9F36 00"),
            0x6A88,
        ),
        // State
        (
            "GPO before SELECT",
            Before::Nothing,
            gpo(&good_pdol),
            0x6985,
        ),
        ("GPO after PPSE only", Before::Ppse, gpo(&good_pdol), 0x6985),
        ("second GPO", Before::VisaDone, gpo(&good_pdol), 0x6985),
        (
            "READ RECORD before GPO",
            Before::SelectedVisa,
            read_record(1, 1),
            0x6985,
        ),
        (
            "READ RECORD before SELECT",
            Before::Nothing,
            read_record(1, 1),
            0x6985,
        ),
        (
            "GENERATE AC before GPO",
            Before::SelectedMastercard,
            generate_ac(0x80, &cdol1_data(100, [0; 4])),
            0x6985,
        ),
        (
            "GENERATE AC on qVSDC",
            Before::VisaDone,
            generate_ac(0x80, &cdol1_data(100, [0; 4])),
            0x6985,
        ),
        (
            "GENERATE AC before SELECT",
            Before::Nothing,
            generate_ac(0x80, &cdol1_data(100, [0; 4])),
            0x6985,
        ),
        (
            "GET DATA before SELECT",
            Before::Ppse,
            hex("80CA9F36 00"),
            0x6985,
        ),
        (
            "reader without qVSDC",
            Before::SelectedVisa,
            gpo(&no_qvsdc_ttq),
            0x6985,
        ),
        // Data
        (
            "PDOL data one byte short",
            Before::SelectedVisa,
            gpo(&good_pdol[1..]),
            0x6700,
        ),
        (
            "PDOL data one byte long",
            Before::SelectedVisa,
            gpo(&[good_pdol.as_slice(), &[0]].concat()),
            0x6700,
        ),
        (
            "PDOL data for a card without PDOL",
            Before::SelectedMastercard,
            gpo(&[1, 2, 3]),
            0x6700,
        ),
        (
            "empty PDOL data for a card with PDOL",
            Before::SelectedVisa,
            gpo(&[]),
            0x6700,
        ),
        (
            "CDOL1 data short",
            Before::MastercardInitiated,
            generate_ac(0x80, &cdol1_data(100, [0; 4])[1..]),
            0x6700,
        ),
        (
            "GPO template not 83",
            Before::SelectedVisa,
            gpo_raw(&[&[0x84, good_pdol.len() as u8][..], &good_pdol].concat()),
            0x6A80,
        ),
        (
            "GPO template truncated",
            Before::SelectedVisa,
            gpo_raw(&[0x83, 0x21, 0x36, 0x00]),
            0x6A80,
        ),
        (
            "GPO two templates",
            Before::SelectedMastercard,
            gpo_raw(&[0x83, 0x00, 0x83, 0x00]),
            0x6A80,
        ),
        (
            "amount not BCD",
            Before::SelectedVisa,
            gpo(&non_bcd_amount),
            0x6A80,
        ),
    ];

    let visa = profile("v", Scheme::Visa, Cvn::Visa22);
    let mc = profile("m", Scheme::Mastercard, Cvn::Mastercard20);
    for (name, before, apdu, expected) in cases {
        let mut ledger = ledger_for(&[(&visa, 5), (&mc, 5)]);
        let mut engine = Engine::new(vec![visa.clone(), mc.clone()]).unwrap();
        let mut run = |c: &[u8]| engine.process(c, &mut ledger, t0());
        let ok = |r: Vec<u8>| assert_eq!(sw(&r), 0x9000, "{name}: setup failed");
        match before {
            Before::Nothing => {}
            Before::Ppse => ok(run(&select_ppse())),
            Before::SelectedVisa => ok(run(&select(&AID_VISA))),
            Before::SelectedMastercard => ok(run(&select(&AID_MASTERCARD))),
            Before::MastercardInitiated => {
                ok(run(&select(&AID_MASTERCARD)));
                ok(run(&gpo(&[])));
            }
            Before::VisaDone => {
                ok(run(&select(&AID_VISA)));
                ok(run(&gpo(&good_pdol)));
            }
        }
        let spent_before = ledger.records.len();
        let (v_left, m_left) = (
            ledger.remaining("v").unwrap(),
            ledger.remaining("m").unwrap(),
        );
        let r = engine.process(&apdu, &mut ledger, t0());
        assert_eq!(r, expected.to_be_bytes().to_vec(), "{name}: {apdu:02X?}");
        assert_eq!(
            ledger.records.len(),
            spent_before,
            "{name}: a record was written"
        );
        assert_eq!(
            ledger.remaining("v").unwrap(),
            v_left,
            "{name}: a Visa key was spent"
        );
        assert_eq!(
            ledger.remaining("m").unwrap(),
            m_left,
            "{name}: a Mastercard key was spent"
        );
    }
}
