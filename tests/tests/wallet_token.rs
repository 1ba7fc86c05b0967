//! The `Wallet` facade against the real sandbox token service (HTTPS on loopback, pinned CA,
//! real SQLite files on both sides): provision with an OTP, pay by tap and by scanned code, see
//! the history settle, suspend/resume/delete, sync — the life of a card as the app drives it.

use std::sync::Arc;
use wallet_core::history::Status;
use wallet_core::ledger::Channel;
use wallet_core::qr::mpm::{Account, Initiation, MerchantPayload};
use wallet_core::store::{CardStatus, SoftwareKeyWrapper};
use wallet_core::token::ProvisioningState;
use wallet_core::wallet::{ServerConfig, Wallet, WalletConfig, WalletError};
use wallet_sandbox::server::{self, OTP_OUTBOX, authorize_remote};
use wallet_sandbox::terminal::{Outcome, Terminal, TerminalConfig, Transaction};

fn open(home: &std::path::Path, srv: &server::RunningServer) -> Wallet {
    let mut config = WalletConfig::new(home);
    config.server = Some(ServerConfig {
        url: srv.url.clone(),
        ca_pem: std::fs::read_to_string(&srv.ca_path).unwrap(),
    });
    let wrapper = SoftwareKeyWrapper::in_dir(home).unwrap();
    Wallet::open(config, Arc::new(wrapper)).unwrap()
}

fn merchant_code(id: u8, amount: Option<&str>) -> String {
    MerchantPayload {
        initiation: if amount.is_some() {
            Initiation::Dynamic
        } else {
            Initiation::Static
        },
        accounts: vec![Account::Network {
            id,
            value: "6233000000000000001".into(),
        }],
        mcc: "5812".into(),
        currency: "156".into(),
        amount: amount.map(str::to_owned),
        tip: None,
        country: "CN".into(),
        name: "Lucky Noodles".into(),
        city: "Shanghai".into(),
        postal_code: None,
        additional: vec![],
        language: None,
        unreserved: vec![],
    }
    .build()
    .unwrap()
}

#[test]
fn a_tokenized_card_from_provisioning_to_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let srv = server::start(server::Config::ephemeral(dir.path().join("srv"))).unwrap();
    let home = dir.path().join("wallet");
    std::fs::create_dir_all(&home).unwrap();
    let wallet = open(&home, &srv);

    // Provision a UnionPay card whose issuer asks for an SMS OTP.
    let mut pan = b"6212340000000019".to_vec();
    let p = wallet
        .begin_provisioning(&pan, "12/35", "WANG FANG")
        .unwrap();
    pan.iter_mut().for_each(|b| *b = 0);
    assert_eq!(p.state, ProvisioningState::Eligible);
    let p = wallet.accept_terms(&p.id).unwrap();
    assert_eq!(p.state, ProvisioningState::IdvRequired);
    let method = p.idv_methods[0].id.clone();
    let p = wallet.select_idv_method(&p.id, &method).unwrap();
    assert_eq!(p.state, ProvisioningState::IdvPending);
    // A wrong OTP is a typed error that says how many attempts are left.
    match wallet.submit_otp(&p.id, "000000") {
        Err(WalletError::OtpRejected { attempts_left }) => assert!(attempts_left >= 1),
        other => panic!("wrong OTP: {other:?}"),
    }
    let outbox: serde_json::Value = serde_json::from_slice(
        &std::fs::read(srv.dir.join(OTP_OUTBOX).join(format!("{}.json", p.id))).unwrap(),
    )
    .unwrap();
    let p = wallet
        .submit_otp(&p.id, outbox["otp"].as_str().unwrap())
        .unwrap();
    assert_eq!(p.state, ProvisioningState::Active);
    let card_id = p.card_id.unwrap();
    let card = wallet.card(&card_id).unwrap();
    assert!(card.keys_left > 0 && card.is_default);
    assert!(wallet.is_token_card(&card_id).unwrap());
    assert!(!card.masked_pan.contains("6212340000000019"));

    // Tap: the terminal's acquirer asks the token service, which has the issuer verify.
    let client = wallet_core::token::client::TokenClient::new(
        &srv.url,
        &std::fs::read(&srv.ca_path).unwrap(),
        Default::default(),
    )
    .unwrap();
    let out = Terminal::new(TerminalConfig::default())
        .tap(&Transaction::purchase(3_650, 156), &mut |c| {
            wallet.process_apdu(c)
        });
    wallet.deactivate();
    assert_eq!(out.outcome, Outcome::OnlineRequest);
    let auth = out.auth.unwrap();
    assert!(authorize_remote(&client, &auth).unwrap().approved);
    // The same cryptogram again is a replay.
    assert!(!authorize_remote(&client, &auth).unwrap().approved);

    // Scan and pay a UnionPay merchant code (reserved ID 15); the amount must match the code.
    let code = merchant_code(15, Some("25.00"));
    assert!(matches!(
        wallet.pay_merchant_qr(&code, Some("30.00"), None),
        Err(WalletError::InvalidInput { .. })
    ));
    let paid = wallet.pay_merchant_qr(&code, None, None).unwrap();
    assert!(paid.approved, "{paid:?}");
    assert_eq!((paid.amount_minor, paid.currency), (2_500, 156));
    // A static code needs the amount from the user.
    let static_code = merchant_code(15, None);
    assert!(wallet.pay_merchant_qr(&static_code, None, None).is_err());
    assert!(
        wallet
            .pay_merchant_qr(&static_code, Some("8.80"), None)
            .unwrap()
            .approved
    );
    // A Visa code cannot be paid with a UnionPay card.
    assert!(matches!(
        wallet.pay_merchant_qr(&merchant_code(2, Some("1.00")), None, None),
        Err(WalletError::QrInvalid { .. })
    ));

    // History: the scanned payments settled at once; sync settles the tap.
    let page = wallet.history(&Default::default(), 50, None).unwrap();
    let scanned: Vec<_> = page
        .records
        .iter()
        .filter(|r| r.channel == Channel::QrScanned)
        .collect();
    assert_eq!(scanned.len(), 2);
    assert!(scanned.iter().all(|r| r.status == Status::Approved));
    assert_eq!(scanned[1].merchant.as_deref(), Some("Lucky Noodles"));
    let report = wallet.sync().unwrap();
    assert!(report.deferred.is_empty(), "{report:?}");
    let tap_record = wallet
        .history(&Default::default(), 50, None)
        .unwrap()
        .records
        .into_iter()
        .find(|r| r.channel == Channel::Nfc)
        .unwrap();
    assert_eq!(tap_record.status, Status::Approved, "sync settled the tap");

    // Suspend wipes the keys and the card stops answering; resume brings fresh keys.
    wallet
        .set_card_status(&card_id, CardStatus::Suspended)
        .unwrap();
    assert_eq!(wallet.card(&card_id).unwrap().keys_left, 0);
    let r = wallet.process_apdu(&hex::decode("00A404000E325041592E5359532E444446303100").unwrap());
    assert_eq!(r, vec![0x6A, 0x82]);
    wallet
        .set_card_status(&card_id, CardStatus::Active)
        .unwrap();
    wallet.sync().unwrap();
    assert!(wallet.card(&card_id).unwrap().keys_left > 0);

    // Reopen (a new process): everything is where it was.
    drop(wallet);
    let wallet = open(&home, &srv);
    assert_eq!(wallet.cards().unwrap().len(), 1);
    wallet
        .set_card_status(&card_id, CardStatus::Deleted)
        .unwrap();
    assert!(wallet.cards().unwrap().is_empty());
    // History keeps the deleted card's payments: the tap and the two scanned codes.
    assert_eq!(
        wallet
            .history(&Default::default(), 50, None)
            .unwrap()
            .records
            .len(),
        3
    );
    srv.shutdown();
}

#[test]
fn without_a_server_the_token_calls_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let wrapper = SoftwareKeyWrapper::in_dir(dir.path()).unwrap();
    let wallet = Wallet::open(WalletConfig::new(dir.path()), Arc::new(wrapper)).unwrap();
    assert!(matches!(
        wallet.begin_provisioning(b"6212340000000019", "12/35", "X"),
        Err(WalletError::NotConfigured { .. })
    ));
    assert!(matches!(
        wallet.sync(),
        Err(WalletError::NotConfigured { .. })
    ));
}
