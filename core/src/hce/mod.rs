//! The contactless card the phone emulates: one state machine per NFC field session.
