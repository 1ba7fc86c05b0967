//! The card's command dispatcher and per-field-session state machine.

use super::cvm::{self, Cvm};
use super::image::{CardImage, ProfileError, ppse_fci};
use super::scheme::{ctq, poscii, ttq};
use super::terminal_data::TerminalData;
use crate::card::{CardProfile, PPSE};
use crate::emv::apdu::{Command, StatusWord, response};
use crate::emv::crypto::sha256;
use crate::emv::cvn::Verification;
use crate::emv::tlv::{self, Tag, encode, encode_into};
use crate::ledger::{Channel, KeyLedger, LedgerError, TxnDraft};
use std::collections::HashMap;
use std::time::SystemTime;

/// ISO 7816-4 "wrong state" for the card's own refusal to pay without a CVM: Book C-3 turns it
/// into "See Phone" (see [`super::cvm`]).
const SEE_PHONE: StatusWord = StatusWord(0x6986);

const CLA_ISO: u8 = 0x00;
const CLA_PROPRIETARY: u8 = 0x80;
const INS_SELECT: u8 = 0xA4;
const INS_READ_RECORD: u8 = 0xB2;
const INS_GPO: u8 = 0xA8;
const INS_GENERATE_AC: u8 = 0xAE;
const INS_GET_DATA: u8 = 0xCA;

/// Cryptogram information data (9F27).
const CID_AAC: u8 = 0x00;
const CID_ARQC: u8 = 0x80;

/// Where the field session is. A new SELECT starts over; [`Engine::deactivate`] (field off)
/// goes back to `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    Idle,
    Ppse,
    /// An application is selected; GPO is next.
    Selected(usize),
    /// GPO done; records are readable and, for M/Chip, GENERATE AC is next.
    Initiated(usize),
    /// The cryptogram has been released; only reads remain.
    Done(usize),
}

/// The contactless card: answers C-APDUs with R-APDUs for the wallet's cards.
///
/// The engine owns no keys. For each cryptogram it asks the [`KeyLedger`] it is lent for the
/// card's next single-use key, computes inside the ledger's `seal`, and releases the response
/// only after the ledger reports the key consumed. A ledger error gives a status word and no
/// cryptogram.
pub struct Engine {
    cards: Vec<CardImage>,
    ppse: Vec<u8>,
    unlocked_until: Option<SystemTime>,
    session: Session,
    /// ATC of the last cryptogram per card id, for GET DATA 9F36. Volatile: after a restart
    /// GET DATA answers 6A88 until the card has produced a cryptogram.
    last_atc: HashMap<String, u16>,
}

impl Engine {
    /// `cards` in priority order: the first is the default card, listed first in the PPSE.
    pub fn new(cards: Vec<CardProfile>) -> Result<Self, ProfileError> {
        let mut engine = Self {
            cards: Vec::new(),
            ppse: Vec::new(),
            unlocked_until: None,
            session: Session::Idle,
            last_atc: HashMap::new(),
        };
        engine.set_cards(cards)?;
        Ok(engine)
    }

    /// Replace the cards (priority order, default first) and end the current session. On
    /// error the previous cards stay.
    pub fn set_cards(&mut self, cards: Vec<CardProfile>) -> Result<(), ProfileError> {
        let images = cards
            .into_iter()
            .map(CardImage::build)
            .collect::<Result<Vec<_>, _>>()?;
        self.ppse = ppse_fci(&images);
        self.cards = images;
        self.session = Session::Idle;
        Ok(())
    }

    pub fn cards(&self) -> impl Iterator<Item = &CardProfile> {
        self.cards.iter().map(|c| &c.profile)
    }

    /// The cardholder has just been verified on the device: until `until`, cryptograms say
    /// CDCVM performed.
    pub fn unlock_for_payment(&mut self, until: SystemTime) {
        self.unlocked_until = Some(until);
    }

    pub fn lock(&mut self) {
        self.unlocked_until = None;
    }

    pub fn is_unlocked(&self, now: SystemTime) -> bool {
        self.unlocked_until.is_some_and(|until| now < until)
    }

    /// The NFC field went away (or the reader reset the card): forget the session.
    pub fn deactivate(&mut self) {
        self.session = Session::Idle;
    }

    /// Answer one C-APDU. Never panics; any problem is a status word.
    pub fn process(&mut self, apdu: &[u8], ledger: &mut dyn KeyLedger, now: SystemTime) -> Vec<u8> {
        let result = Command::parse(apdu).and_then(|cmd| {
            let data = self.dispatch(&cmd, ledger, now)?;
            fit_to_le(data, cmd.le)
        });
        match result {
            Ok(data) => response(&data, StatusWord::OK),
            Err(sw) => {
                log::debug!("hce: {:02X?} -> {sw}", apdu.get(..4));
                sw.to_bytes().to_vec()
            }
        }
    }

    fn dispatch(
        &mut self,
        cmd: &Command<'_>,
        ledger: &mut dyn KeyLedger,
        now: SystemTime,
    ) -> Result<Vec<u8>, StatusWord> {
        if cmd.cla != CLA_ISO && cmd.cla != CLA_PROPRIETARY {
            return Err(StatusWord::CLA_NOT_SUPPORTED);
        }
        let (class, handler): (u8, Handler) = match cmd.ins {
            INS_SELECT => (CLA_ISO, Engine::select),
            INS_READ_RECORD => (CLA_ISO, Engine::read_record),
            INS_GPO => (CLA_PROPRIETARY, Engine::get_processing_options),
            INS_GENERATE_AC => (CLA_PROPRIETARY, Engine::generate_ac),
            INS_GET_DATA => (CLA_PROPRIETARY, Engine::get_data),
            _ => return Err(StatusWord::INS_NOT_SUPPORTED),
        };
        if cmd.cla != class {
            return Err(StatusWord::CLA_NOT_SUPPORTED);
        }
        handler(self, cmd, ledger, now)
    }

    fn select(
        &mut self,
        cmd: &Command<'_>,
        _: &mut dyn KeyLedger,
        _: SystemTime,
    ) -> Result<Vec<u8>, StatusWord> {
        // P1 04: select by DF name. P2 00: first or only occurrence, 02: next occurrence.
        if cmd.p1 != 0x04 || (cmd.p2 != 0x00 && cmd.p2 != 0x02) {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let name = cmd.data;
        if name.is_empty() {
            return Err(StatusWord::WRONG_LENGTH);
        }
        if name == PPSE {
            if cmd.p2 == 0x02 || self.cards.is_empty() {
                return Err(StatusWord::FILE_NOT_FOUND);
            }
            self.session = Session::Ppse;
            return Ok(self.ppse.clone());
        }
        // Exact AID, or a partial name of at least the RID (EMV Book 1 §12.3.1 lets a terminal
        // select by a prefix and step through matches with P2 02).
        let matches = |card: &&CardImage| {
            card.profile.aid.as_slice() == name
                || (name.len() >= 5 && card.profile.aid.starts_with(name))
        };
        let current = match self.session {
            Session::Selected(i) | Session::Initiated(i) | Session::Done(i) => Some(i),
            Session::Idle | Session::Ppse => None,
        };
        let next = {
            let mut candidates = self
                .selectable()
                .filter(|(_, c)| matches(c))
                .map(|(i, _)| i);
            match (cmd.p2, current) {
                (0x02, Some(cur)) => candidates.find(|&i| i > cur),
                _ => candidates.next(),
            }
        };
        let index = next.ok_or(StatusWord::FILE_NOT_FOUND)?;
        let card = self.cards.get(index).ok_or(StatusWord::FILE_NOT_FOUND)?;
        self.session = Session::Selected(index);
        Ok(card.fci.clone())
    }

    /// Cards a terminal can reach: the first card of each AID.
    fn selectable(&self) -> impl Iterator<Item = (usize, &CardImage)> {
        self.cards.iter().enumerate().filter(|(i, c)| {
            !self
                .cards
                .iter()
                .take(*i)
                .any(|earlier| earlier.profile.aid == c.profile.aid)
        })
    }

    fn read_record(
        &mut self,
        cmd: &Command<'_>,
        _: &mut dyn KeyLedger,
        _: SystemTime,
    ) -> Result<Vec<u8>, StatusWord> {
        if !cmd.data.is_empty() {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let (record, sfi) = (cmd.p1, cmd.p2 >> 3);
        // P2 low bits 100: P1 is a record number; SFI 0 would mean "current EF", which an EMV
        // card does not have.
        if record == 0 || cmd.p2 & 0x07 != 0x04 || sfi == 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let card = match self.session {
            Session::Initiated(i) | Session::Done(i) => self.cards.get(i),
            _ => None,
        }
        .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        match card.afl_covers(sfi, record) {
            (false, _) => Err(StatusWord::FILE_NOT_FOUND),
            (true, false) => Err(StatusWord::RECORD_NOT_FOUND),
            (true, true) => card
                .record(sfi, record)
                .map(<[u8]>::to_vec)
                .ok_or(StatusWord::RECORD_NOT_FOUND),
        }
    }

    fn get_processing_options(
        &mut self,
        cmd: &Command<'_>,
        ledger: &mut dyn KeyLedger,
        now: SystemTime,
    ) -> Result<Vec<u8>, StatusWord> {
        if cmd.p1 != 0 || cmd.p2 != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let Session::Selected(index) = self.session else {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let card = self
            .cards
            .get(index)
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        require_full_le(cmd.le)?;
        let pdol_data = command_template(cmd.data)?;
        let td = TerminalData::parse(&card.pdol, pdol_data)?;

        if !card.rules.cryptogram_in_gpo {
            // M/Chip: AIP and AFL now, the cryptogram at GENERATE AC.
            self.session = Session::Initiated(index);
            return Ok(encode(Tag(0x77), &card.gpo_head));
        }

        let terminal_ttq = td.ttq.unwrap_or_default();
        if terminal_ttq[0] & ttq::B1_QUICK_EMV == 0 {
            // The reader cannot do qVSDC/qPBOC, the only path this card offers: "select next".
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        }
        let amount = td.amount_minor().ok_or(StatusWord::WRONG_DATA)?;
        let cvm = cvm::decide(
            self.is_unlocked(now),
            amount,
            card.profile.cvm_limit_minor,
            terminal_ttq[1] & ttq::B2_CVM_REQUIRED != 0,
        );
        if cvm == Cvm::SeePhone {
            return Err(SEE_PHONE);
        }
        let cdcvm = cvm == Cvm::Cdcvm;
        let verification = Verification {
            cdcvm_performed: cdcvm,
            arqc_returned: true,
        };
        let ac = self.cryptogram(index, &td, verification, ledger)?;

        let card = self
            .cards
            .get(index)
            .ok_or(StatusWord::NO_PRECISE_DIAGNOSIS)?;
        let mut body = card.gpo_head.clone();
        encode_into(&mut body, Tag(0x57), &card.track2);
        encode_into(&mut body, Tag(0x5F34), &[card.profile.psn]);
        encode_into(&mut body, Tag(0x9F10), &ac.iad);
        encode_into(&mut body, Tag(0x9F26), &ac.cryptogram);
        encode_into(&mut body, Tag(0x9F27), &[CID_ARQC]);
        encode_into(&mut body, Tag(0x9F36), &ac.atc.to_be_bytes());
        let ctq_b2 = if cdcvm { ctq::B2_CDCVM_PERFORMED } else { 0 };
        encode_into(&mut body, Tag(0x9F6C), &[0x00, ctq_b2]);
        self.session = Session::Done(index);
        Ok(encode(Tag(0x77), &body))
    }

    fn generate_ac(
        &mut self,
        cmd: &Command<'_>,
        ledger: &mut dyn KeyLedger,
        now: SystemTime,
    ) -> Result<Vec<u8>, StatusWord> {
        // P1 bits 8-7: AAC 00, TC 01, ARQC 10, 11 RFU; bit 5: CDA requested (ignored: the AIP
        // offers no CDA, so the response carries no signature); other bits RFU.
        let requested = cmd.p1 & 0xC0;
        if cmd.p2 != 0 || requested == 0xC0 || cmd.p1 & 0x2F != 0 {
            return Err(StatusWord::INCORRECT_P1P2);
        }
        let Session::Initiated(index) = self.session else {
            return Err(StatusWord::CONDITIONS_NOT_SATISFIED);
        };
        let card = self
            .cards
            .get(index)
            .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        require_full_le(cmd.le)?;
        let td = TerminalData::parse(&card.cdol1, cmd.data)?;
        let amount = td.amount_minor().ok_or(StatusWord::WRONG_DATA)?;
        let unlocked = self.is_unlocked(now);

        let (cid, verification, pcii) = if requested == 0x00 {
            // The terminal declines offline; the card can only agree.
            let pcii = if unlocked {
                poscii::B2_OD_CVM_SUCCESSFUL
            } else {
                0
            };
            (
                CID_AAC,
                Verification {
                    cdcvm_performed: unlocked,
                    arqc_returned: false,
                },
                pcii,
            )
        } else {
            // Online-only: a TC request is answered with an ARQC.
            match cvm::decide(unlocked, amount, card.profile.cvm_limit_minor, false) {
                Cvm::SeePhone => (
                    CID_AAC,
                    Verification {
                        cdcvm_performed: false,
                        arqc_returned: false,
                    },
                    poscii::B2_OD_CVM_REQUIRED,
                ),
                Cvm::Cdcvm => (
                    CID_ARQC,
                    Verification {
                        cdcvm_performed: true,
                        arqc_returned: true,
                    },
                    poscii::B2_OD_CVM_SUCCESSFUL,
                ),
                Cvm::NotRequired => (
                    CID_ARQC,
                    Verification {
                        cdcvm_performed: false,
                        arqc_returned: true,
                    },
                    0,
                ),
            }
        };
        let ac = self.cryptogram(index, &td, verification, ledger)?;

        let mut body = encode(Tag(0x9F27), &[cid]);
        encode_into(&mut body, Tag(0x9F36), &ac.atc.to_be_bytes());
        encode_into(&mut body, Tag(0x9F26), &ac.cryptogram);
        encode_into(&mut body, Tag(0x9F10), &ac.iad);
        encode_into(&mut body, Tag(0xDF4B), &[0x00, pcii, 0x00]);
        self.session = Session::Done(index);
        Ok(encode(Tag(0x77), &body))
    }

    fn get_data(
        &mut self,
        cmd: &Command<'_>,
        _: &mut dyn KeyLedger,
        _: SystemTime,
    ) -> Result<Vec<u8>, StatusWord> {
        if !cmd.data.is_empty() {
            return Err(StatusWord::WRONG_LENGTH);
        }
        let card = match self.session {
            Session::Selected(i) | Session::Initiated(i) | Session::Done(i) => self.cards.get(i),
            Session::Idle | Session::Ppse => None,
        }
        .ok_or(StatusWord::CONDITIONS_NOT_SATISFIED)?;
        if u16::from_be_bytes([cmd.p1, cmd.p2]) != 0x9F36 {
            return Err(StatusWord::REFERENCED_DATA_NOT_FOUND);
        }
        let atc = self
            .last_atc
            .get(&card.profile.id)
            .ok_or(StatusWord::REFERENCED_DATA_NOT_FOUND)?;
        Ok(encode(Tag(0x9F36), &atc.to_be_bytes()))
    }

    /// Spend the card's next single-use key on one application cryptogram. The cryptogram is
    /// computed inside the ledger's `seal` and handed out only once the ledger has committed.
    fn cryptogram(
        &mut self,
        index: usize,
        td: &TerminalData,
        v: Verification,
        ledger: &mut dyn KeyLedger,
    ) -> Result<Cryptogram, StatusWord> {
        let card = self
            .cards
            .get(index)
            .ok_or(StatusWord::NO_PRECISE_DIAGNOSIS)?;
        let profile = &card.profile;
        let iad = profile.cvn.iad(profile.dki, v);
        let aip = card.rules.aip;
        let mut sealed: Option<(u16, [u8; 8])> = None;
        let committed = ledger.consume_next(&profile.id, &mut |atc, key| {
            let ac = profile.cvn.arqc(key, &td.ac_input(aip, atc, iad.clone()));
            sealed = Some((atc, ac));
            TxnDraft {
                card_id: profile.id.clone(),
                channel: Channel::Nfc,
                atc,
                amount_minor: td.amount_minor(),
                currency: td.currency_code(),
                country: td.country_code(),
                unpredictable_number: td.un,
                cryptogram_sha256: sha256(&ac),
                cdcvm: v.cdcvm_performed,
                merchant: None,
            }
        });
        let atc = committed.map_err(|e| {
            log::warn!("hce: no cryptogram for card {}: {e}", profile.id);
            match e {
                LedgerError::Storage(_) => StatusWord::NO_PRECISE_DIAGNOSIS,
                LedgerError::UnknownCard(_)
                | LedgerError::Exhausted(_)
                | LedgerError::Inactive(_) => StatusWord::CONDITIONS_NOT_SATISFIED,
            }
        })?;
        // A ledger that committed an ATC other than the one it sealed is broken: release nothing.
        let (sealed_atc, cryptogram) = sealed
            .filter(|(a, _)| *a == atc)
            .ok_or(StatusWord::NO_PRECISE_DIAGNOSIS)?;
        let id = profile.id.clone();
        self.last_atc.insert(id, sealed_atc);
        failpoint!("hce::before_respond", |_| Err(
            StatusWord::NO_PRECISE_DIAGNOSIS
        ));
        Ok(Cryptogram {
            atc,
            cryptogram,
            iad,
        })
    }
}

type Handler =
    fn(&mut Engine, &Command<'_>, &mut dyn KeyLedger, SystemTime) -> Result<Vec<u8>, StatusWord>;

struct Cryptogram {
    atc: u16,
    cryptogram: [u8; 8],
    iad: Vec<u8>,
}

/// The `83` command template of GPO; its value is the PDOL data.
fn command_template(data: &[u8]) -> Result<&[u8], StatusWord> {
    if data.is_empty() {
        return Err(StatusWord::WRONG_LENGTH);
    }
    match tlv::parse_all(data).as_deref() {
        Ok([object]) if object.tag == Tag(0x83) => Ok(object.value),
        _ => Err(StatusWord::WRONG_DATA),
    }
}

/// Commands that spend a key must be able to return their whole answer: a short Le would
/// burn a key on a response the terminal then cannot take. EMV terminals send Le 00.
fn require_full_le(le: Option<usize>) -> Result<(), StatusWord> {
    match le {
        Some(n) if n < 256 => Err(StatusWord::WRONG_LENGTH),
        _ => Ok(()),
    }
}

/// ISO 7816-4: when Le is shorter than the data, answer 6Cxx with the exact length.
fn fit_to_le(data: Vec<u8>, le: Option<usize>) -> Result<Vec<u8>, StatusWord> {
    match le {
        Some(n) if data.len() > n => Err(StatusWord(0x6C00 | (data.len() & 0xFF) as u16)),
        _ => Ok(data),
    }
}
