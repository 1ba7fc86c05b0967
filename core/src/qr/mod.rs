//! EMVCo QR codes: merchant-presented (scan), consumer-presented (show), rendering.
