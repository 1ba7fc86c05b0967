package org.walletcore.app.ui

import android.app.Activity
import android.graphics.Bitmap
import android.graphics.drawable.BitmapDrawable
import android.nfc.NfcAdapter
import android.nfc.cardemulation.CardEmulation
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.view.View
import android.widget.Button
import android.widget.ImageView
import android.widget.ProgressBar
import android.widget.TextView
import org.walletcore.app.R
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.PayEffect
import org.walletcore.app.logic.PayEvent
import org.walletcore.app.logic.PayReducer
import org.walletcore.app.logic.PayState
import org.walletcore.app.logic.QrCode
import org.walletcore.app.logic.QrRender
import org.walletcore.app.logic.TapInfo
import org.walletcore.app.repository

/**
 * Verify, then "hold near the reader" (the HCE service answers while the payment window is open)
 * or show the payment QR, redrawn from the core's matrix and refreshed before it expires. All state
 * changes go through [PayReducer]; this class only runs effects and draws.
 */
class PayActivity : Activity() {
    private var state = PayState()
    private val handler = Handler(Looper.getMainLooper())
    private lateinit var cdcvm: Cdcvm
    private var drawn: QrCode? = null

    private val ticker = object : Runnable {
        override fun run() {
            dispatch(PayEvent.Tick(System.currentTimeMillis()))
            handler.postDelayed(this, TICK_MS)
        }
    }
    private val onTap: (TapInfo) -> Unit = { dispatch(PayEvent.TapCompleted(it)) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        secureWindow()
        setContentView(R.layout.activity_pay)
        applySystemBarInsets(findViewById(R.id.root))
        cdcvm = Cdcvm(this, repository)
        find<Button>(R.id.authenticate).setOnClickListener { dispatch(PayEvent.AuthRequested) }
        find<Button>(R.id.qr_toggle).setOnClickListener {
            dispatch(if (state.qr == PayState.Qr.Hidden) PayEvent.QrRequested else PayEvent.QrClosed)
        }
    }

    override fun onResume() {
        super.onResume()
        repository.addTapListener(onTap)
        // While this screen is in front, taps go to walletcore even if another app is the default.
        NfcAdapter.getDefaultAdapter(this)?.let { CardEmulation.getInstance(it).setPreferredService(this, hceService) }
        handler.post(ticker)
    }

    override fun onPause() {
        handler.removeCallbacks(ticker)
        NfcAdapter.getDefaultAdapter(this)?.let { CardEmulation.getInstance(it).unsetPreferredService(this) }
        repository.removeTapListener(onTap)
        cdcvm.cancel()
        super.onPause()
    }

    private fun dispatch(event: PayEvent) {
        val step = PayReducer.reduce(state, event)
        state = step.state
        step.effects.forEach(::run)
        render()
    }

    private fun run(effect: PayEffect) =
        when (effect) {
            PayEffect.StartAuthentication ->
                cdcvm.start { result ->
                    when (result) {
                        is CdcvmResult.Unlocked -> dispatch(PayEvent.Unlocked(result.untilMs))
                        CdcvmResult.Cancelled -> dispatch(PayEvent.AuthFailed(null))
                        is CdcvmResult.Failed -> dispatch(PayEvent.AuthFailed(result.error))
                    }
                }
            PayEffect.LoadQr ->
                repository.presentQr(null) { outcome ->
                    when (outcome) {
                        is Outcome.Ok -> dispatch(PayEvent.QrLoaded(outcome.value, System.currentTimeMillis()))
                        is Outcome.Failed -> dispatch(PayEvent.QrFailed(outcome.error))
                    }
                }
        }

    private fun render() {
        val view = PayReducer.view(state, System.currentTimeMillis())
        find<TextView>(R.id.pay_state).setText(if (view.holdNearReader) R.string.pay_hold_near else R.string.pay_locked)
        find<TextView>(R.id.pay_countdown).text =
            if (view.holdNearReader) getString(R.string.pay_unlocked_left, view.unlockSecondsLeft) else ""
        find<Button>(R.id.authenticate).isEnabled = view.canAuthenticate
        find<Button>(R.id.qr_toggle).setText(if (state.qr == PayState.Qr.Hidden) R.string.pay_show_qr else R.string.pay_hide_qr)

        val image = find<ImageView>(R.id.qr_image)
        val progress = find<ProgressBar>(R.id.qr_progress)
        val qr = state.qr
        if (qr is PayState.Qr.Shown) {
            if (drawn !== qr.code) draw(image, qr.code)
            progress.progress = (view.qrRemaining * progress.max).toInt()
            find<TextView>(R.id.qr_countdown).text = getString(R.string.pay_qr_left, view.qrSecondsLeft)
        } else if (qr == PayState.Qr.Hidden) {
            image.setImageDrawable(null)
            drawn = null
            find<TextView>(R.id.qr_countdown).text = ""
        }
        val visible = if (view.showQr) View.VISIBLE else View.GONE
        image.visibility = visible
        progress.visibility = visible

        find<TextView>(R.id.last_payment).text =
            state.lastTap?.let { tap ->
                tap.amountMinor?.let { getString(R.string.pay_done, amount(it, tap.currency)) } ?: getString(R.string.pay_tap_done)
            } ?: ""
        find<TextView>(R.id.problem).text = state.problem?.let { describe(it) } ?: ""
    }

    /** Whole pixels per module and no bitmap filtering, so every module stays sharp for the scanner. */
    private fun draw(image: ImageView, code: QrCode) {
        val maxPx = resources.getDimensionPixelSize(R.dimen.qr_size)
        val raster = QrRender.rasterize(code.size, code.modules, maxPx) ?: return
        val bitmap = Bitmap.createBitmap(raster.pixels, raster.width, raster.width, Bitmap.Config.ARGB_8888)
        image.setImageDrawable(BitmapDrawable(resources, bitmap).apply { isFilterBitmap = false })
        drawn = code
    }

    private companion object {
        const val TICK_MS = 250L
    }
}
