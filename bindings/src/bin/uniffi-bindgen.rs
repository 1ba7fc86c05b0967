//! The workspace's uniffi-bindgen, built from the same uniffi version as the scaffolding so the
//! generated Kotlin always matches the library's checksums.

fn main() {
    uniffi::uniffi_bindgen_main()
}
