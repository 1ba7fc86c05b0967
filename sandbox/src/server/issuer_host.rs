//! The bridge from the token service to the issuer host (`crate::issuer`): personalisation of
//! a token and ARQC verification.

use super::error::ApiError;
use std::ops::RangeInclusive;
use wallet_core::card::{Personalisation, Scheme};

pub struct IssuerHost;

impl IssuerHost {
    pub fn personalise(
        &self,
        _scheme: Scheme,
        _token_pan: &str,
        _expiry_yymm: &str,
        _psn: u8,
        _atcs: RangeInclusive<u16>,
    ) -> Result<Personalisation, ApiError> {
        Err(ApiError::internal("issuer host not wired yet"))
    }
}
