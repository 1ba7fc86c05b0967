// walletcore Android: the SDK (native library, generated bindings, HCE service, Keystore wrapper)
// and the app. The Rust workspace is the parent directory; wallet-sdk builds it with cargo-ndk.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "walletcore"
include(":wallet-sdk", ":app")
