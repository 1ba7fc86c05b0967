fn main() {
    eprintln!("wallet-sandbox: not yet");
}
