package org.walletcore.app

import android.app.Activity
import android.app.Application

class WalletApp : Application() {
    lateinit var repository: WalletRepository
        private set

    override fun onCreate() {
        super.onCreate()
        repository = WalletRepository(this, AppSettings(this))
    }
}

val Activity.repository: WalletRepository get() = (application as WalletApp).repository
