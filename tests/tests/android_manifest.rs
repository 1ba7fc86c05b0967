//! The Android side must route to the card exactly what the core answers: the HCE service
//! declaration and `apduservice.xml` are checked against `wallet_core::card` so the two cannot
//! drift, and every manifest and resource file of `android/` must be well-formed XML.

use roxmltree::{Document, Node};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use wallet_core::card::{ALL_AIDS, PPSE};

const ANDROID_NS: &str = "http://schemas.android.com/apk/res/android";

fn android_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../android")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse<'a>(path: &Path, text: &'a str) -> Document<'a> {
    Document::parse(text)
        .unwrap_or_else(|e| panic!("{} is not well-formed XML: {e}", path.display()))
}

fn attr<'a>(node: Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attribute((ANDROID_NS, name))
}

fn children<'a, 'i>(node: Node<'a, 'i>, tag: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |n| n.has_tag_name(tag))
}

fn sdk_main() -> PathBuf {
    android_dir().join("wallet-sdk/src/main")
}

fn app_main() -> PathBuf {
    android_dir().join("app/src/main")
}

/// `@xml/name` -> `<module>/res/xml/name.xml`
fn xml_resource(module_main: &Path, reference: &str) -> PathBuf {
    let name = reference
        .strip_prefix("@xml/")
        .unwrap_or_else(|| panic!("{reference} is not an @xml/ resource"));
    module_main.join("res/xml").join(format!("{name}.xml"))
}

/// The one `<service>` that is the HCE payment card.
fn hce_service<'a, 'i>(manifest: &'a Document<'i>) -> Node<'a, 'i> {
    let services: Vec<_> = manifest
        .descendants()
        .filter(|n| n.has_tag_name("service"))
        .filter(|s| {
            s.descendants().any(|n| {
                n.has_tag_name("action")
                    && attr(n, "name") == Some("android.nfc.cardemulation.action.HOST_APDU_SERVICE")
            })
        })
        .collect();
    assert_eq!(
        services.len(),
        1,
        "exactly one HOST_APDU_SERVICE service in the SDK manifest"
    );
    services[0]
}

#[test]
fn sdk_manifest_declares_the_hce_service() {
    let path = sdk_main().join("AndroidManifest.xml");
    let text = read(&path);
    let doc = parse(&path, &text);
    let root = doc.root_element();
    let uses = |tag: &str, name: &str| children(root, tag).any(|n| attr(n, "name") == Some(name));
    assert!(
        uses("uses-permission", "android.permission.NFC"),
        "NFC permission"
    );
    assert!(
        uses("uses-feature", "android.hardware.nfc.hce"),
        "HCE feature"
    );

    let service = hce_service(&doc);
    assert_eq!(
        attr(service, "name"),
        Some("org.walletcore.sdk.WalletHceService")
    );
    assert_eq!(
        attr(service, "permission"),
        Some("android.permission.BIND_NFC_SERVICE"),
        "only the NFC stack may bind the payment service"
    );
    assert_eq!(
        attr(service, "exported"),
        Some("true"),
        "the system must be able to bind it"
    );
    let meta: Vec<_> = children(service, "meta-data")
        .filter(|m| attr(*m, "name") == Some("android.nfc.cardemulation.host_apdu_service"))
        .collect();
    assert_eq!(meta.len(), 1, "one host_apdu_service meta-data");
    assert_eq!(attr(meta[0], "resource"), Some("@xml/apduservice"));
}

#[test]
fn apduservice_lists_exactly_the_aids_the_core_answers() {
    let manifest_path = sdk_main().join("AndroidManifest.xml");
    let manifest_text = read(&manifest_path);
    let manifest = parse(&manifest_path, &manifest_text);
    let service = hce_service(&manifest);
    let reference = children(service, "meta-data")
        .find_map(|m| attr(m, "resource"))
        .expect("meta-data resource");
    let path = xml_resource(&sdk_main(), reference);
    let text = read(&path);
    let doc = parse(&path, &text);
    let root = doc.root_element();
    assert!(
        root.has_tag_name("host-apdu-service"),
        "root element is host-apdu-service"
    );
    assert!(
        matches!(attr(root, "requireDeviceUnlock"), Some("true" | "false")),
        "requireDeviceUnlock is a product decision: state it explicitly"
    );
    assert!(
        attr(root, "apduServiceBanner").is_some(),
        "payment services need a banner in Settings"
    );
    assert!(attr(root, "description").is_some());

    let groups: Vec<_> = children(root, "aid-group").collect();
    assert!(!groups.is_empty(), "at least one aid-group");
    let mut declared = BTreeSet::new();
    for group in &groups {
        assert_eq!(
            attr(*group, "category"),
            Some("payment"),
            "every AID group is a payment group"
        );
        for filter in children(*group, "aid-filter") {
            let aid = attr(filter, "name").expect("aid-filter has android:name");
            let bytes = hex::decode(aid).unwrap_or_else(|e| panic!("AID {aid} is not hex: {e}"));
            assert!(
                (5..=16).contains(&bytes.len()),
                "AID {aid}: ISO 7816-4 AIDs are 5 to 16 bytes"
            );
            assert_eq!(
                aid,
                aid.to_ascii_uppercase(),
                "AID {aid}: write AIDs in upper case"
            );
            assert!(declared.insert(aid.to_string()), "AID {aid} declared twice");
        }
        assert_eq!(
            children(*group, "aid-prefix-filter").count(),
            0,
            "no prefix filters: exact AIDs only"
        );
    }

    let expected: BTreeSet<String> = std::iter::once(PPSE)
        .chain(ALL_AIDS)
        .map(hex::encode_upper)
        .collect();
    let missing: Vec<_> = expected.difference(&declared).collect();
    let extra: Vec<_> = declared.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} must list PPSE + card::ALL_AIDS: missing {missing:?} (readers' SELECTs would never reach the card), \
         extra {extra:?} (routed to a card that answers 6A82)",
        path.display()
    );
}

/// The service is a thin pipe: one JNI call per APDU and per deactivation, nothing else on the
/// tap path. (The native side of that call is exercised on the JVM by tests/kotlin.)
#[test]
fn hce_service_is_one_native_call_per_apdu() {
    let src = read(&sdk_main().join("kotlin/org/walletcore/sdk/WalletHceService.kt"));
    let compact: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        compact.contains(
            "override fun processCommandApdu(commandApdu: ByteArray, extras: Bundle?): ByteArray = NativeHce.processApdu(commandApdu)"
        ),
        "processCommandApdu must be exactly one call into NativeHce.processApdu"
    );
    assert!(
        compact.contains("override fun onDeactivated(reason: Int) = NativeHce.deactivate(reason)")
    );

    let native = read(&sdk_main().join("kotlin/org/walletcore/sdk/NativeHce.kt"));
    assert!(
        !native.contains("import android."),
        "NativeHce must compile on a plain JVM for the bindings tests"
    );
    for decl in [
        "external fun processApdu(apdu: ByteArray): ByteArray",
        "external fun deactivate(reason: Int)",
        "external fun isAttached(): Boolean",
        "external fun attach(dataDir: String, keyWrapper: KeyWrapper)",
        "System.loadLibrary(\"wallet_ffi\")",
    ] {
        assert!(native.contains(decl), "NativeHce.kt declares `{decl}`");
    }
}

#[test]
fn backups_exclude_the_wallet_data() {
    let path = sdk_main().join("AndroidManifest.xml");
    let text = read(&path);
    let doc = parse(&path, &text);
    let app = children(doc.root_element(), "application")
        .next()
        .expect("<application>");
    for (attribute, root_tag, sections) in [
        (
            "dataExtractionRules",
            "data-extraction-rules",
            &["cloud-backup", "device-transfer"][..],
        ),
        ("fullBackupContent", "full-backup-content", &[][..]),
    ] {
        let reference =
            attr(app, attribute).unwrap_or_else(|| panic!("android:{attribute} is set"));
        let rules_path = xml_resource(&sdk_main(), reference);
        let rules_text = read(&rules_path);
        let rules = parse(&rules_path, &rules_text);
        let root = rules.root_element();
        assert!(
            root.has_tag_name(root_tag),
            "{} root is <{root_tag}>",
            rules_path.display()
        );
        let scopes: Vec<Node> = if sections.is_empty() {
            vec![root]
        } else {
            sections
                .iter()
                .map(|s| {
                    children(root, s)
                        .next()
                        .unwrap_or_else(|| panic!("<{s}> in {}", rules_path.display()))
                })
                .collect()
        };
        for scope in scopes {
            let excluded: BTreeSet<(&str, &str)> = children(scope, "exclude")
                .map(|e| {
                    (
                        e.attribute("domain").unwrap_or(""),
                        e.attribute("path").unwrap_or(""),
                    )
                })
                .collect();
            for needed in [("database", "."), ("file", "walletcore/")] {
                assert!(
                    excluded.contains(&needed),
                    "{} <{}> excludes {needed:?}",
                    rules_path.display(),
                    scope.tag_name().name()
                );
            }
            assert_eq!(
                children(scope, "include").count(),
                0,
                "no include rule can bring wallet data back"
            );
        }
    }
}

#[test]
fn manifest_components_exist_in_the_sources() {
    for (main, package) in [
        (app_main(), "org.walletcore.app"),
        (sdk_main(), "org.walletcore.sdk"),
    ] {
        let path = main.join("AndroidManifest.xml");
        let text = read(&path);
        let doc = parse(&path, &text);
        for node in doc.descendants().filter(|n| {
            ["activity", "service", "receiver", "provider", "application"]
                .contains(&n.tag_name().name())
        }) {
            let Some(name) = attr(node, "name") else {
                continue;
            };
            let class = if let Some(rest) = name.strip_prefix('.') {
                format!("{package}.{rest}")
            } else {
                name.to_string()
            };
            let file = main.join("kotlin").join(class.replace('.', "/") + ".kt");
            assert!(
                file.is_file(),
                "{} names {class}, but {} does not exist",
                path.display(),
                file.display()
            );
        }
    }
    let path = app_main().join("AndroidManifest.xml");
    let text = read(&path);
    let doc = parse(&path, &text);
    let launchers = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("category")
                && attr(*n, "name") == Some("android.intent.category.LAUNCHER")
        })
        .count();
    assert_eq!(launchers, 1, "one launcher activity");
}

/// Every XML resource parses, and every string exists in English and Chinese with the same
/// format arguments (a missing `%1$d` in one language crashes `getString` at run time).
#[test]
fn resources_are_well_formed_and_translated() {
    for main in [app_main(), sdk_main()] {
        let res = main.join("res");
        let mut stack = vec![res.clone()];
        while let Some(dir) = stack.pop() {
            for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "xml") {
                    let text = read(&path);
                    parse(&path, &text);
                }
            }
        }
        let english = string_formats(&res.join("values/strings.xml"));
        let chinese = string_formats(&res.join("values-zh-rCN/strings.xml"));
        let en_keys: BTreeSet<_> = english.keys().collect();
        let zh_keys: BTreeSet<_> = chinese.keys().collect();
        assert_eq!(
            en_keys,
            zh_keys,
            "{}: the same strings in values/ and values-zh-rCN/",
            res.display()
        );
        for (key, args) in &english {
            assert_eq!(
                Some(args),
                chinese.get(key),
                "{}: format arguments of '{key}'",
                res.display()
            );
        }
    }
}

/// name -> (item count for arrays, sorted format specifiers like `%1$s`)
fn string_formats(path: &Path) -> BTreeMap<String, (usize, Vec<String>)> {
    let text = read(path);
    let doc = parse(path, &text);
    let mut out = BTreeMap::new();
    for node in doc.root_element().children().filter(|n| n.is_element()) {
        let name = node
            .attribute("name")
            .unwrap_or_else(|| panic!("{}: unnamed <{}>", path.display(), node.tag_name().name()));
        let texts: Vec<String> = if node.has_tag_name("string-array") {
            children(node, "item")
                .map(|i| i.text().unwrap_or("").to_string())
                .collect()
        } else {
            vec![node.text().unwrap_or("").to_string()]
        };
        let mut specs: Vec<String> = texts.iter().flat_map(|t| format_specs(t)).collect();
        specs.sort();
        assert!(
            out.insert(name.to_string(), (texts.len(), specs)).is_none(),
            "{}: '{name}' twice",
            path.display()
        );
    }
    out
}

fn format_specs(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut specs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'$') {
                i += 1;
            }
            if i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                specs.push(text[start..=i].to_string());
            }
        }
        i += 1;
    }
    specs
}
