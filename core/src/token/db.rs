//! Reading and writing provisioning's tables (see [`super::schema`]) through the store.

use super::api::{IdvMethod, Terms};
use super::device::DeviceKeys;
use super::error::TokenError;
use super::state::{CardState, Provisioning, ProvisioningState, Step, TokenCard};
use crate::card::Scheme;
use crate::store::clock::now_ms;
use crate::store::{Place, Sealer, Store, StoreError};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use zeroize::Zeroizing;

const DEVICE_ROW: i64 = 1;

fn corrupt(what: &str) -> TokenError {
    TokenError::Store(StoreError::Corrupt(format!("token tables: {what}")))
}

/// The device keys and the server they are registered with, if any were made.
pub fn load_device(store: &Store) -> Result<Option<(DeviceKeys, Option<String>)>, TokenError> {
    let row: Option<(Vec<u8>, Vec<u8>, Option<String>)> = store
        .connection()
        .query_row(
            "SELECT signing_key, agreement_key, registered_at FROM token_device WHERE id = ?1",
            [DEVICE_ROW],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((signing, agreement, registered)) = row else {
        return Ok(None);
    };
    let sealer = store.sealer();
    let pkcs8 = sealer.open(
        Place::new("token_device", DEVICE_ROW, "signing_key"),
        &signing,
    )?;
    let scalar = sealer.open(
        Place::new("token_device", DEVICE_ROW, "agreement_key"),
        &agreement,
    )?;
    let keys =
        DeviceKeys::from_parts(&pkcs8, &scalar).map_err(|e| TokenError::Device(e.to_string()))?;
    Ok(Some((keys, registered)))
}

pub fn save_device(store: &mut Store, keys: &DeviceKeys) -> Result<(), TokenError> {
    let scalar: Zeroizing<[u8; 32]> = keys.agreement_scalar();
    store.write(|tx, sealer| {
        let signing = sealer.seal(Place::new("token_device", DEVICE_ROW, "signing_key"), keys.signing_pkcs8())?;
        let agreement = sealer.seal(Place::new("token_device", DEVICE_ROW, "agreement_key"), &scalar[..])?;
        tx.execute(
            "INSERT INTO token_device (id, device_id, signing_key, agreement_key, registered_at, created_at)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
            params![DEVICE_ROW, keys.device_id(), signing, agreement, now_ms()],
        )?;
        Ok(())
    })?;
    Ok(())
}

pub fn mark_registered(store: &mut Store, server_url: &str) -> Result<(), TokenError> {
    store.write(|tx, _| {
        tx.execute(
            "UPDATE token_device SET registered_at = ?1 WHERE id = ?2",
            params![server_url, DEVICE_ROW],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// A provisioning row with its outbox entry.
pub struct Row {
    pub view: Provisioning,
    pub server_url: String,
    pub token_ref: Option<String>,
    pub pending: Option<(Step, String)>,
}

pub fn load(conn: &Connection, id: &str) -> Result<Option<Row>, TokenError> {
    let row = conn
        .query_row(
            "SELECT state, scheme, pan_suffix, terms, idv_methods, idv_method, otp_attempts_left, token_ref,
                    pending_step, pending_key, last_error, server_url
             FROM token_provisionings WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<u8>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, String>(11)?,
                ))
            },
        )
        .optional()?;
    let Some((
        state,
        scheme,
        suffix,
        terms,
        methods,
        method,
        attempts,
        token_ref,
        p_step,
        p_key,
        err,
        url,
    )) = row
    else {
        return Ok(None);
    };
    let state = ProvisioningState::parse(&state).ok_or_else(|| corrupt("provisioning state"))?;
    let scheme: Option<Scheme> = scheme
        .map(|s| s.parse())
        .transpose()
        .map_err(|_| corrupt("scheme"))?;
    let terms: Option<Terms> = terms
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|_| corrupt("terms"))?;
    let idv_methods: Vec<IdvMethod> = methods
        .map(|m| serde_json::from_str(&m))
        .transpose()
        .map_err(|_| corrupt("idv methods"))?
        .unwrap_or_default();
    let pending = match (p_step, p_key) {
        (Some(s), Some(k)) => Some((Step::parse(&s).ok_or_else(|| corrupt("pending step"))?, k)),
        _ => None,
    };
    let card_id = (state == ProvisioningState::Active)
        .then(|| token_ref.clone())
        .flatten();
    Ok(Some(Row {
        view: Provisioning {
            id: id.to_owned(),
            state,
            scheme,
            pan_suffix: suffix,
            terms,
            idv_methods,
            idv_method: method,
            otp_attempts_left: attempts,
            card_id,
            outcome_unknown: pending.is_some(),
            last_error: err,
        },
        server_url: url,
        token_ref,
        pending,
    }))
}

pub fn require(conn: &Connection, id: &str) -> Result<Row, TokenError> {
    load(conn, id)?.ok_or_else(|| TokenError::UnknownProvisioning(id.to_owned()))
}

pub fn list(conn: &Connection) -> Result<Vec<Provisioning>, TokenError> {
    let ids = conn
        .prepare("SELECT id FROM token_provisionings ORDER BY created_at, id")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    ids.iter()
        .map(|id| require(conn, id).map(|r| r.view))
        .collect()
}

pub fn insert(
    store: &mut Store,
    id: &str,
    server_url: &str,
    pending_key: &str,
) -> Result<(), TokenError> {
    store.write(|tx, _| {
        let now = now_ms();
        tx.execute(
            "INSERT INTO token_provisionings (id, server_url, state, pending_step, pending_key, created_at, updated_at)
             VALUES (?1, ?2, 'new', ?3, ?4, ?5, ?5)",
            params![id, server_url, Step::Eligibility.as_str(), pending_key, now],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// Record the request about to be sent (the outbox), committing before it leaves.
pub fn set_pending(
    store: &mut Store,
    id: &str,
    step: Step,
    key: &str,
    state: ProvisioningState,
) -> Result<(), TokenError> {
    store.write(|tx, _| {
        tx.execute(
            "UPDATE token_provisionings SET pending_step = ?2, pending_key = ?3, state = ?4, updated_at = ?5
             WHERE id = ?1",
            params![id, step.as_str(), key, state.as_str(), now_ms()],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// What an answer changes on a provisioning row; `None` leaves a column as it is.
#[derive(Default)]
pub struct Update<'a> {
    pub state: Option<ProvisioningState>,
    pub scheme: Option<Scheme>,
    pub pan_suffix: Option<&'a str>,
    pub terms: Option<&'a Terms>,
    pub idv_methods: Option<&'a [IdvMethod]>,
    pub idv_method: Option<&'a str>,
    pub otp_attempts_left: Option<Option<u8>>,
    pub token_ref: Option<&'a str>,
    pub clear_pending: bool,
    pub last_error: Option<Option<&'a str>>,
}

pub fn apply(tx: &Transaction<'_>, id: &str, u: &Update<'_>) -> Result<(), StoreError> {
    let json =
        |v: Result<String, serde_json::Error>| v.map_err(|e| StoreError::Invalid(e.to_string()));
    let terms = u
        .terms
        .map(|t| json(serde_json::to_string(t)))
        .transpose()?;
    let methods = u
        .idv_methods
        .map(|m| json(serde_json::to_string(m)))
        .transpose()?;
    tx.execute(
        "UPDATE token_provisionings SET
            state = coalesce(?2, state),
            scheme = coalesce(?3, scheme),
            pan_suffix = coalesce(?4, pan_suffix),
            terms = coalesce(?5, terms),
            idv_methods = coalesce(?6, idv_methods),
            idv_method = coalesce(?7, idv_method),
            otp_attempts_left = CASE WHEN ?8 THEN ?9 ELSE otp_attempts_left END,
            token_ref = coalesce(?10, token_ref),
            pending_step = CASE WHEN ?11 THEN NULL ELSE pending_step END,
            pending_key = CASE WHEN ?11 THEN NULL ELSE pending_key END,
            last_error = CASE WHEN ?12 THEN ?13 ELSE last_error END,
            updated_at = ?14
         WHERE id = ?1",
        params![
            id,
            u.state.map(ProvisioningState::as_str),
            u.scheme.map(Scheme::name),
            u.pan_suffix,
            terms,
            methods,
            u.idv_method,
            u.otp_attempts_left.is_some(),
            u.otp_attempts_left.flatten(),
            u.token_ref,
            u.clear_pending,
            u.last_error.is_some(),
            u.last_error.flatten(),
            now_ms()
        ],
    )?;
    Ok(())
}

pub fn update(store: &mut Store, id: &str, u: &Update<'_>) -> Result<(), TokenError> {
    store.write(|tx, _| apply(tx, id, u))?;
    Ok(())
}

// --- token cards -------------------------------------------------------------------------

pub struct CardRow {
    pub card: TokenCard,
    pub row: i64,
    pub server_url: String,
    pub log_mac_key: Vec<u8>,
    pub pending: Option<(String, String, String)>,
}

fn log_key_place(row: i64) -> Place<'static> {
    Place::new("token_cards", row, "log_mac_key")
}

pub fn load_card(conn: &Connection, card_id: &str) -> Result<Option<CardRow>, TokenError> {
    let row = conn
        .query_row(
            "SELECT ref, token_ref, provisioning_id, state, log_mac_key, last_issued_atc, reported_through,
                    pending_step, pending_key, pending_body, server_url
             FROM token_cards WHERE card_id = ?1",
            [card_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, u16>(5)?,
                    r.get::<_, u16>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, Option<String>>(9)?,
                    r.get::<_, String>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((row, token_ref, pid, state, mac, issued, reported, p_step, p_key, p_body, url)) = row
    else {
        return Ok(None);
    };
    let pending = match (p_step, p_key, p_body) {
        (Some(s), Some(k), Some(b)) => Some((s, k, b)),
        _ => None,
    };
    Ok(Some(CardRow {
        card: TokenCard {
            card_id: card_id.to_owned(),
            token_ref,
            provisioning_id: pid,
            state: CardState::parse(&state).ok_or_else(|| corrupt("card state"))?,
            last_issued_atc: issued,
            reported_through: reported,
            pending: pending.as_ref().map(|p| p.0.clone()),
        },
        row,
        server_url: url,
        log_mac_key: mac,
        pending,
    }))
}

pub fn require_card(conn: &Connection, card_id: &str) -> Result<CardRow, TokenError> {
    load_card(conn, card_id)?.ok_or_else(|| TokenError::UnknownCard(card_id.to_owned()))
}

pub fn card_ids(conn: &Connection) -> Result<Vec<String>, TokenError> {
    Ok(conn
        .prepare("SELECT card_id FROM token_cards ORDER BY ref")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?)
}

pub fn open_log_key(sealer: &Sealer, card: &CardRow) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    Ok(sealer.open(log_key_place(card.row), &card.log_mac_key)?)
}

pub struct NewCard<'a> {
    pub card_id: &'a str,
    pub token_ref: &'a str,
    pub provisioning_id: &'a str,
    pub server_url: &'a str,
    pub log_mac_key: &'a [u8],
    pub last_issued_atc: u16,
}

/// Insert the token card (if not already there) and mark the provisioning active, in one
/// transaction.
pub fn activate(store: &mut Store, c: &NewCard<'_>) -> Result<(), TokenError> {
    store.write(|tx, sealer| {
        let exists: Option<i64> = tx
            .query_row("SELECT ref FROM token_cards WHERE card_id = ?1", [c.card_id], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            let row: i64 = tx.query_row("SELECT coalesce(max(ref), 0) + 1 FROM token_cards", [], |r| r.get(0))?;
            let sealed = sealer.seal(log_key_place(row), c.log_mac_key)?;
            tx.execute(
                "INSERT INTO token_cards (ref, card_id, token_ref, provisioning_id, server_url, state, log_mac_key,
                     last_issued_atc, reported_through, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, 0, ?8)",
                params![row, c.card_id, c.token_ref, c.provisioning_id, c.server_url, sealed, c.last_issued_atc, now_ms()],
            )?;
        }
        apply(
            tx,
            c.provisioning_id,
            &Update { state: Some(ProvisioningState::Active), clear_pending: true, last_error: Some(None), ..Default::default() },
        )
    })?;
    Ok(())
}

pub fn set_card_pending(
    store: &mut Store,
    card_id: &str,
    pending: Option<(&str, &str, &str)>,
) -> Result<(), TokenError> {
    store.write(|tx, _| {
        let (s, k, b) = match pending {
            Some((s, k, b)) => (Some(s), Some(k), Some(b)),
            None => (None, None, None),
        };
        tx.execute(
            "UPDATE token_cards SET pending_step = ?2, pending_key = ?3, pending_body = ?4, updated_at = ?5
             WHERE card_id = ?1",
            params![card_id, s, k, b, now_ms()],
        )?;
        Ok(())
    })?;
    Ok(())
}

pub fn set_card_state(
    tx: &Transaction<'_>,
    card_id: &str,
    state: CardState,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE token_cards SET state = ?2, updated_at = ?3 WHERE card_id = ?1",
        params![card_id, state.as_str(), now_ms()],
    )?;
    Ok(())
}

/// After a replenishment was installed: new issued high-water mark and acknowledged log.
pub fn replenished(
    store: &mut Store,
    card_id: &str,
    last_issued: u16,
    reported_through: u16,
) -> Result<(), TokenError> {
    store.write(|tx, _| {
        tx.execute(
            "UPDATE token_cards SET last_issued_atc = max(last_issued_atc, ?2),
                 reported_through = max(reported_through, ?3),
                 pending_step = NULL, pending_key = NULL, pending_body = NULL, updated_at = ?4
             WHERE card_id = ?1",
            params![card_id, last_issued, reported_through, now_ms()],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// ATCs this card has spent above `after`: one history record per spent key (the ledger writes
/// it in the transaction that consumes the key), so the history is the log.
pub fn used_atcs(conn: &Connection, card_id: &str, after: u16) -> Result<Vec<u16>, TokenError> {
    Ok(conn
        .prepare(
            "SELECT r.atc FROM records r JOIN cards c ON c.ref = r.card_ref
             WHERE c.id = ?1 AND r.atc > ?2 ORDER BY r.atc",
        )?
        .query_map(params![card_id, after], |r| r.get::<_, u16>(0))?
        .collect::<Result<Vec<_>, _>>()?)
}

pub fn events_after(conn: &Connection) -> Result<u64, TokenError> {
    let v: Option<i64> = conn
        .query_row(
            "SELECT events_after FROM token_sync WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
}

pub fn set_events_after(tx: &Transaction<'_>, seq: u64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO token_sync (id, events_after) VALUES (1, ?1)
         ON CONFLICT(id) DO UPDATE SET events_after = max(events_after, excluded.events_after)",
        [i64::try_from(seq).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}
