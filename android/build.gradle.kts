// AGP 9 compiles Kotlin itself ("built-in Kotlin"); it ships with an older Kotlin Gradle plugin,
// so the classpath entry below selects the Kotlin version the project is written and checked
// against (the same compiler version tools/android-check uses).
buildscript {
    repositories {
        mavenCentral()
    }
    dependencies {
        classpath(libs.kotlin.gradle.plugin)
    }
}

plugins {
    alias(libs.plugins.android.application) apply false
    alias(libs.plugins.android.library) apply false
}
