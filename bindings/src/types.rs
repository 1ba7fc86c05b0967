//! The records and enums Kotlin sees (see `udl/wallet.udl`), and their conversions from the
//! core's types. Shapes are chosen for Kotlin: times as Unix milliseconds, months as
//! "YYYY-MM", no tuples, no secrets (the token PAN only masked).

use std::time::{Duration, UNIX_EPOCH};
use wallet_core::card::Scheme;
use wallet_core::history;
use wallet_core::ledger;
use wallet_core::qr::{self, ScanReport};
use wallet_core::store;
use wallet_core::token;
use wallet_core::wallet as core;

use crate::error::WalletError;

pub struct ServerConfig {
    pub url: String,
    pub ca_pem: String,
}

pub struct WalletConfig {
    pub home: String,
    pub server: Option<ServerConfig>,
    pub replenish_threshold: u32,
    pub qr_validity_seconds: u32,
}

impl WalletConfig {
    pub fn into_core(self) -> Result<core::WalletConfig, WalletError> {
        let mut config = core::WalletConfig::new(self.home);
        config.server = self.server.map(|s| core::ServerConfig {
            url: s.url,
            ca_pem: s.ca_pem,
        });
        config.replenish_threshold = self.replenish_threshold;
        if self.qr_validity_seconds == 0 {
            return Err(WalletError::InvalidInput {
                reason: "qr_validity_seconds must be at least 1".into(),
            });
        }
        config.qr_validity = Duration::from_secs(u64::from(self.qr_validity_seconds));
        Ok(config)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStatus {
    Active,
    Suspended,
    Deleted,
}

impl From<store::CardStatus> for CardStatus {
    fn from(s: store::CardStatus) -> Self {
        match s {
            store::CardStatus::Active => CardStatus::Active,
            store::CardStatus::Suspended => CardStatus::Suspended,
            store::CardStatus::Deleted => CardStatus::Deleted,
        }
    }
}

pub struct CardInfo {
    pub id: String,
    pub scheme: Scheme,
    pub label: String,
    pub masked_pan: String,
    pub last4: String,
    pub expiry: String,
    pub status: CardStatus,
    pub is_default: bool,
    pub keys_left: u32,
}

impl From<core::CardInfo> for CardInfo {
    fn from(c: core::CardInfo) -> Self {
        CardInfo {
            id: c.id,
            scheme: c.scheme,
            label: c.label,
            masked_pan: c.masked_pan,
            last4: c.last4,
            expiry: c.expiry,
            status: c.status.into(),
            is_default: c.is_default,
            keys_left: c.keys_left,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Nfc,
    QrPresented,
    QrScanned,
}

impl From<ledger::Channel> for Channel {
    fn from(c: ledger::Channel) -> Self {
        match c {
            ledger::Channel::Nfc => Channel::Nfc,
            ledger::Channel::QrPresented => Channel::QrPresented,
            ledger::Channel::QrScanned => Channel::QrScanned,
        }
    }
}

impl From<Channel> for ledger::Channel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Nfc => ledger::Channel::Nfc,
            Channel::QrPresented => ledger::Channel::QrPresented,
            Channel::QrScanned => ledger::Channel::QrScanned,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnStatus {
    Pending,
    Approved,
    Declined,
    Reversed,
    Expired,
}

impl From<history::Status> for TxnStatus {
    fn from(s: history::Status) -> Self {
        match s {
            history::Status::Pending => TxnStatus::Pending,
            history::Status::Approved => TxnStatus::Approved,
            history::Status::Declined => TxnStatus::Declined,
            history::Status::Reversed => TxnStatus::Reversed,
            history::Status::Expired => TxnStatus::Expired,
        }
    }
}

impl From<TxnStatus> for history::Status {
    fn from(s: TxnStatus) -> Self {
        match s {
            TxnStatus::Pending => history::Status::Pending,
            TxnStatus::Approved => history::Status::Approved,
            TxnStatus::Declined => history::Status::Declined,
            TxnStatus::Reversed => history::Status::Reversed,
            TxnStatus::Expired => history::Status::Expired,
        }
    }
}

pub struct Transaction {
    pub id: i64,
    pub card_id: String,
    pub channel: Channel,
    pub status: TxnStatus,
    pub amount_minor: Option<u64>,
    pub currency: Option<u16>,
    pub country: Option<u16>,
    pub merchant: Option<String>,
    pub note: Option<String>,
    pub atc: u16,
    pub cdcvm: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<history::Record> for Transaction {
    fn from(r: history::Record) -> Self {
        Transaction {
            id: r.id,
            card_id: r.card_id,
            channel: r.channel.into(),
            status: r.status.into(),
            amount_minor: r.amount_minor,
            currency: r.currency,
            country: r.country,
            merchant: r.merchant,
            note: r.note,
            atc: r.atc,
            cdcvm: r.cdcvm,
            created_at_ms: r.created_at_ms,
            updated_at_ms: r.updated_at_ms,
        }
    }
}

pub struct HistoryFilter {
    pub card_id: Option<String>,
    pub channel: Option<Channel>,
    pub status: Option<TxnStatus>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    pub currency: Option<u16>,
    pub text: Option<String>,
}

impl From<HistoryFilter> for history::Filter {
    fn from(q: HistoryFilter) -> Self {
        history::Filter {
            card_id: q.card_id,
            channel: q.channel.map(Into::into),
            status: q.status.map(Into::into),
            from_ms: q.from_ms,
            to_ms: q.to_ms,
            min_amount: q.min_amount,
            max_amount: q.max_amount,
            currency: q.currency,
            text: q.text,
        }
    }
}

pub struct HistoryPage {
    pub records: Vec<Transaction>,
    pub next: Option<String>,
}

impl From<history::Page> for HistoryPage {
    fn from(p: history::Page) -> Self {
        HistoryPage {
            records: p.records.into_iter().map(Into::into).collect(),
            next: p.next.map(|c| c.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: u16,
    pub month: u8,
}

impl From<history::Month> for Month {
    fn from(m: history::Month) -> Self {
        Month {
            year: m.year(),
            month: m.month(),
        }
    }
}

impl TryFrom<Month> for history::Month {
    type Error = WalletError;
    fn try_from(m: Month) -> Result<Self, WalletError> {
        history::Month::new(m.year, m.month).ok_or_else(|| WalletError::InvalidInput {
            reason: format!(
                "{}-{} is not a month (year 1000..=9999, month 1..=12)",
                m.year, m.month
            ),
        })
    }
}

pub struct StatsQuery {
    pub from: Option<Month>,
    pub to: Option<Month>,
    pub card_id: Option<String>,
    pub by_card: bool,
}

impl TryFrom<StatsQuery> for history::StatsQuery {
    type Error = WalletError;
    fn try_from(q: StatsQuery) -> Result<Self, WalletError> {
        Ok(history::StatsQuery {
            from: q.from.map(TryInto::try_into).transpose()?,
            to: q.to.map(TryInto::try_into).transpose()?,
            card_id: q.card_id,
            by_card: q.by_card,
        })
    }
}

pub struct Sum {
    pub count: u64,
    pub total_minor: u64,
}

impl From<history::Sum> for Sum {
    fn from(s: history::Sum) -> Self {
        Sum {
            count: s.count,
            total_minor: s.total_minor,
        }
    }
}

pub struct MonthlyTotal {
    pub month: Month,
    pub card_id: Option<String>,
    pub currency: Option<u16>,
    pub pending: Sum,
    pub approved: Sum,
    pub declined: Sum,
    pub reversed: Sum,
    pub expired: Sum,
}

impl From<history::MonthlyTotal> for MonthlyTotal {
    fn from(t: history::MonthlyTotal) -> Self {
        MonthlyTotal {
            month: t.month.into(),
            card_id: t.card_id,
            currency: t.currency,
            pending: t.pending.into(),
            approved: t.approved.into(),
            declined: t.declined.into(),
            reversed: t.reversed.into(),
            expired: t.expired.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl From<ExportFormat> for core::ExportFormat {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Csv => core::ExportFormat::Csv,
            ExportFormat::Json => core::ExportFormat::Json,
        }
    }
}

pub struct QrMatrix {
    pub size: u32,
    pub modules: Vec<u8>,
}

impl QrMatrix {
    /// The symbol for `payload`, without a quiet zone (Kotlin draws the border).
    pub fn encode(payload: &str) -> Result<Self, WalletError> {
        let options = qr::render::RenderOptions {
            quiet_zone: 0,
            ..Default::default()
        };
        let symbol = qr::render::QrSymbol::encode(payload.as_bytes(), options).map_err(|e| {
            WalletError::Internal {
                reason: format!("QR rendering: {e}"),
            }
        })?;
        let matrix = symbol.matrix();
        Ok(QrMatrix {
            size: u32::try_from(matrix.width).unwrap_or(u32::MAX),
            modules: matrix.modules.iter().map(|&dark| u8::from(dark)).collect(),
        })
    }
}

pub struct PaymentCode {
    pub payload: String,
    pub matrix: QrMatrix,
    pub card_id: String,
    pub atc: u16,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
}

impl TryFrom<qr::cpm::PaymentCode> for PaymentCode {
    type Error = WalletError;
    fn try_from(code: qr::cpm::PaymentCode) -> Result<Self, WalletError> {
        Ok(PaymentCode {
            matrix: QrMatrix::encode(&code.payload)?,
            card_id: code.card_id.clone(),
            atc: code.atc,
            issued_at_ms: seconds_to_ms(code.issued_at),
            expires_at_ms: seconds_to_ms(code.expires_at),
            payload: code.payload,
        })
    }
}

fn seconds_to_ms(unix_seconds: u64) -> i64 {
    i64::try_from(unix_seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Unix milliseconds of a `SystemTime` (0 before 1970).
pub fn unix_ms(t: std::time::SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrKind {
    Mpm,
    Cpm,
    Url,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrVerdict {
    Valid,
    ValidLenient,
    InvalidCrc,
    MissingCrc,
    InvalidStructure,
    InvalidBase64,
    InvalidBerTlv,
    UnknownUrl,
}

impl From<qr::Verdict> for QrVerdict {
    fn from(v: qr::Verdict) -> Self {
        match v {
            qr::Verdict::Valid => QrVerdict::Valid,
            qr::Verdict::ValidLenient => QrVerdict::ValidLenient,
            qr::Verdict::InvalidCrc => QrVerdict::InvalidCrc,
            qr::Verdict::MissingCrc => QrVerdict::MissingCrc,
            qr::Verdict::InvalidStructure => QrVerdict::InvalidStructure,
            qr::Verdict::InvalidBase64 => QrVerdict::InvalidBase64,
            qr::Verdict::InvalidBerTlv => QrVerdict::InvalidBerTlv,
            qr::Verdict::UnknownUrl => QrVerdict::UnknownUrl,
        }
    }
}

pub struct ScannedQr {
    pub kind: QrKind,
    pub verdict: QrVerdict,
    pub valid: bool,
    pub network: Option<String>,
    pub networks: Vec<String>,
    pub can_pay: bool,
    pub scheme: Option<Scheme>,
    pub reason: String,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    pub country: Option<String>,
    pub currency: Option<u16>,
    pub amount: Option<String>,
    pub amount_minor: Option<u64>,
    pub mcc: Option<String>,
    pub url: Option<String>,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub report_json: String,
}

impl From<ScanReport> for ScannedQr {
    fn from(r: ScanReport) -> Self {
        let report_json = r.to_json();
        let f = r.fields;
        let currency = f.currency.as_deref().and_then(|c| c.parse::<u16>().ok());
        let amount_minor = match (&f.amount, currency) {
            (Some(a), Some(c)) => wallet_core::money::parse_amount(a, c).ok(),
            _ => None,
        };
        ScannedQr {
            kind: match r.kind {
                qr::Kind::Mpm => QrKind::Mpm,
                qr::Kind::Cpm => QrKind::Cpm,
                qr::Kind::Url => QrKind::Url,
            },
            verdict: r.verdict.into(),
            valid: r.valid,
            network: r.network.map(str::to_owned),
            networks: r.schemes.iter().map(|s| (*s).to_owned()).collect(),
            can_pay: r.payable.can_pay,
            scheme: r.payable.scheme,
            reason: r.payable.reason,
            merchant_name: f.merchant_name,
            merchant_city: f.merchant_city,
            country: f.country,
            currency,
            amount: f.amount,
            amount_minor,
            mcc: f.mcc,
            url: f.url,
            warnings: r.warnings,
            errors: r.errors,
            report_json,
        }
    }
}

pub enum WalletEvent {
    TapCompleted {
        card_id: String,
        atc: u16,
        amount_minor: Option<u64>,
        currency: Option<u16>,
    },
    KeysLow {
        card_id: String,
        keys_left: u32,
    },
    KeysExhausted {
        card_id: String,
    },
}

impl From<core::WalletEvent> for WalletEvent {
    fn from(e: core::WalletEvent) -> Self {
        match e {
            core::WalletEvent::TapCompleted {
                card_id,
                atc,
                amount_minor,
                currency,
            } => WalletEvent::TapCompleted {
                card_id,
                atc,
                amount_minor,
                currency,
            },
            core::WalletEvent::KeysLow { card_id, keys_left } => {
                WalletEvent::KeysLow { card_id, keys_left }
            }
            core::WalletEvent::KeysExhausted { card_id } => WalletEvent::KeysExhausted { card_id },
        }
    }
}

pub struct CardDetails {
    pub pan: Vec<u8>,
    pub expiry_month: u8,
    pub expiry_year: u16,
    pub cardholder_name: String,
}

impl CardDetails {
    /// The printed expiry, `MM/YY`, as the token service takes it.
    pub fn expiry_mm_yy(&self) -> Result<String, WalletError> {
        if !(1..=12).contains(&self.expiry_month) || !(2000..=2099).contains(&self.expiry_year) {
            return Err(WalletError::InvalidInput {
                reason: "expiry must be a month 1..=12 of a year 2000..=2099".into(),
            });
        }
        Ok(format!(
            "{:02}/{:02}",
            self.expiry_month,
            self.expiry_year % 100
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisioningState {
    New,
    Eligible,
    TermsAccepted,
    TokenizeSent,
    IdvRequired,
    IdvPending,
    Approved,
    CredentialsPending,
    Active,
    Declined,
    Failed,
}

impl From<token::ProvisioningState> for ProvisioningState {
    fn from(s: token::ProvisioningState) -> Self {
        use token::ProvisioningState as S;
        match s {
            S::New => Self::New,
            S::Eligible => Self::Eligible,
            S::TermsAccepted => Self::TermsAccepted,
            S::TokenizeSent => Self::TokenizeSent,
            S::IdvRequired => Self::IdvRequired,
            S::IdvPending => Self::IdvPending,
            S::Approved => Self::Approved,
            S::CredentialsPending => Self::CredentialsPending,
            S::Active => Self::Active,
            S::Declined => Self::Declined,
            S::Failed => Self::Failed,
        }
    }
}

pub struct Terms {
    pub id: String,
    pub url: String,
    pub text: String,
}

pub struct IdvMethod {
    pub id: String,
    pub kind: String,
    pub target: String,
}

pub struct Provisioning {
    pub id: String,
    pub state: ProvisioningState,
    pub scheme: Option<Scheme>,
    pub pan_suffix: Option<String>,
    pub terms: Option<Terms>,
    pub idv_methods: Vec<IdvMethod>,
    pub idv_method: Option<String>,
    pub otp_attempts_left: Option<u8>,
    pub card_id: Option<String>,
    pub outcome_unknown: bool,
    pub last_error: Option<String>,
}

impl From<token::Provisioning> for Provisioning {
    fn from(p: token::Provisioning) -> Self {
        Provisioning {
            id: p.id,
            state: p.state.into(),
            scheme: p.scheme,
            pan_suffix: p.pan_suffix,
            terms: p.terms.map(|t| Terms {
                id: t.id,
                url: t.url,
                text: t.text,
            }),
            idv_methods: p
                .idv_methods
                .into_iter()
                .map(|m| IdvMethod {
                    id: m.id,
                    kind: m.kind,
                    target: m.target,
                })
                .collect(),
            idv_method: p.idv_method,
            otp_attempts_left: p.otp_attempts_left,
            card_id: p.card_id,
            outcome_unknown: p.outcome_unknown,
            last_error: p.last_error,
        }
    }
}

pub struct SyncReport {
    pub events_applied: u32,
    pub provisionings_resumed: u32,
    pub cards_replenished: u32,
    pub keys_added: u32,
    pub statuses_updated: u32,
    pub deferred: Vec<String>,
}

impl From<token::SyncReport> for SyncReport {
    fn from(r: token::SyncReport) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        SyncReport {
            events_applied: n(r.events_applied),
            provisionings_resumed: n(r.provisionings_resumed),
            cards_replenished: n(r.cards_replenished),
            keys_added: n(r.keys_added),
            statuses_updated: n(r.statuses_updated),
            deferred: r.deferred,
        }
    }
}

pub struct MerchantPayment {
    pub card_id: String,
    pub atc: u16,
    pub amount_minor: u64,
    pub currency: u16,
    pub merchant: Option<String>,
    pub approved: bool,
    pub response_code: String,
    pub reason: String,
}

impl From<core::MerchantPayment> for MerchantPayment {
    fn from(p: core::MerchantPayment) -> Self {
        MerchantPayment {
            card_id: p.card_id,
            atc: p.atc,
            amount_minor: p.amount_minor,
            currency: p.currency,
            merchant: p.merchant,
            approved: p.approved,
            response_code: p.response_code,
            reason: p.reason,
        }
    }
}
