//! EMVCo Consumer-Presented Mode (QRCPS-CPM): the code this wallet shows, and decoding any
//! CPM payload (for the scan report and to check what we issue).
//!
//! Layout: base64 of BER-TLV — `85 "CPV01"`, then one application template `61` per card in
//! priority order (4F AID, 50 label, 57 track-2 equivalent, 5F34 PSN, 9F25 last four digits, and
//! the transaction data in `63`: 9F26 ARQC, 9F27 CID, 9F10 IAD, 9F36 ATC, 82 AIP, 9F37 UN), and
//! optionally a common data template `62` (with `64` inside).

mod decode;
mod present;

pub use decode::{Application, CpmCode, CpmError, Node, TransactionData, decode, looks_like_cpm};
pub use present::{
    CID_ARQC, CPM_AIP, MAX_CARDS, PaymentCode, PresentConfig, PresentContext, PresentError,
    Presenter,
};
