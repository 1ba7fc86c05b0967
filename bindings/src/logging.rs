//! Where the native library's `log` records go: logcat on Android, and a Kotlin [`LogSink`] when
//! the app sets one. One process-wide logger, installed the first time either FFI path is used.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Once, RwLock};

/// Receives log records on the Kotlin side.
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, target: String, message: String);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<Level> for LogLevel {
    fn from(level: Level) -> Self {
        match level {
            Level::Error => LogLevel::Error,
            Level::Warn => LogLevel::Warn,
            Level::Info => LogLevel::Info,
            Level::Debug => LogLevel::Debug,
            Level::Trace => LogLevel::Trace,
        }
    }
}

impl From<LogLevel> for LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Error => LevelFilter::Error,
            LogLevel::Warn => LevelFilter::Warn,
            LogLevel::Info => LevelFilter::Info,
            LogLevel::Debug => LevelFilter::Debug,
            LogLevel::Trace => LevelFilter::Trace,
        }
    }
}

/// What logcat gets on Android when no sink asks for more.
#[cfg(target_os = "android")]
const PLATFORM_LEVEL: LevelFilter = LevelFilter::Info;
#[cfg(not(target_os = "android"))]
const PLATFORM_LEVEL: LevelFilter = LevelFilter::Off;

struct Sink {
    sink: Box<dyn LogSink>,
    level: LevelFilter,
}

struct BridgeLogger {
    sink: RwLock<Option<Arc<Sink>>>,
    #[cfg(target_os = "android")]
    android: std::sync::OnceLock<android_logger::AndroidLogger>,
}

static LOGGER: BridgeLogger = BridgeLogger {
    sink: RwLock::new(None),
    #[cfg(target_os = "android")]
    android: std::sync::OnceLock::new(),
};

thread_local! {
    /// Set while a record is being handed to the Kotlin sink, so that anything the sink itself
    /// logs (through calls back into the library) is dropped instead of recursing.
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Install the logger (idempotent). Called from `JNI_OnLoad` and from every UniFFI entry
/// point that can start a process's use of the library.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another logger may already own the process (a host app embedding us); then records go
        // there and `set_log_sink` has no effect, which is the host's choice.
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(PLATFORM_LEVEL);
        }
        install_panic_hook();
    });
}

/// Panics are caught at every FFI entry point, but the message would otherwise go to stderr,
/// which Android discards. The hook is this library's own (each cdylib has its own std), so the
/// host process is not affected. Its record reaches logcat but not the Kotlin sink (see
/// `BridgeLogger::log`); the entry point that caught the panic reports it there.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        log::error!(target: "walletcore::panic", "panic at {location}: {message}");
        // One line on a desktop's stderr (a foreign exception's message carries its whole stack).
        #[cfg(not(target_os = "android"))]
        eprintln!(
            "walletcore: panic at {location}: {}",
            message.lines().next().unwrap_or_default()
        );
    }));
}

/// Replace the Kotlin sink (`None` removes it).
pub fn set_log_sink(sink: Option<Box<dyn LogSink>>, max_level: LogLevel) {
    init();
    let entry = sink.map(|sink| {
        Arc::new(Sink {
            sink,
            level: max_level.into(),
        })
    });
    let level = entry.as_ref().map_or(LevelFilter::Off, |s| s.level);
    match LOGGER.sink.write() {
        Ok(mut slot) => *slot = entry,
        Err(poisoned) => *poisoned.into_inner() = entry,
    }
    log::set_max_level(level.max(PLATFORM_LEVEL));
}

impl BridgeLogger {
    fn current_sink(&self) -> Option<Arc<Sink>> {
        match self.sink.read() {
            Ok(slot) => slot.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    #[cfg(target_os = "android")]
    fn android(&self) -> &android_logger::AndroidLogger {
        self.android.get_or_init(|| {
            android_logger::AndroidLogger::new(
                android_logger::Config::default()
                    .with_tag("walletcore")
                    .with_max_level(PLATFORM_LEVEL),
            )
        })
    }
}

impl Log for BridgeLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= PLATFORM_LEVEL
            || self
                .current_sink()
                .is_some_and(|s| metadata.level() <= s.level)
    }

    fn log(&self, record: &Record<'_>) {
        #[cfg(target_os = "android")]
        if record.level() <= PLATFORM_LEVEL {
            self.android().log(record);
        }
        let Some(sink) = self.current_sink() else {
            return;
        };
        // Never call foreign code from a panic hook or while unwinding: if the sink threw then,
        // the second panic would abort the process.
        if record.level() > sink.level || IN_SINK.with(Cell::get) || std::thread::panicking() {
            return;
        }
        IN_SINK.with(|f| f.set(true));
        let level = record.level().into();
        let target = record.target().to_owned();
        let message = record.args().to_string();
        // A sink that throws must not turn a log line into a failed tap: UniFFI reports an
        // exception from a non-throwing callback as a panic, which stops here.
        let _ = catch_unwind(AssertUnwindSafe(|| sink.sink.log(level, target, message)));
        IN_SINK.with(|f| f.set(false));
    }

    fn flush(&self) {}
}
