package org.walletcore.test

/** Every test file contributes one `…Tests` function. */
fun registerAll() {
    libraryTests()
    walletTests()
    tapTests()
    qrTests()
    historyTests()
    provisioningTests()
    jniTests()
}
