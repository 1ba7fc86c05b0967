//! The one native library the Android app loads.
