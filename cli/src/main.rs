fn main() {
    eprintln!("wallet: not yet");
}
