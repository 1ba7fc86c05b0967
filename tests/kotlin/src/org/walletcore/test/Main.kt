package org.walletcore.test

/** Every test file contributes one `register…` function. */
fun registerAll() {
    libraryTests()
    jniTests()
}
