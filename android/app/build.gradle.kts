plugins {
    alias(libs.plugins.android.application)
}

android {
    namespace = "org.walletcore.app"
    compileSdk = libs.versions.compileSdk.get().toInt()

    defaultConfig {
        applicationId = "org.walletcore.app"
        minSdk = libs.versions.minSdk.get().toInt()
        targetSdk = libs.versions.targetSdk.get().toInt()
        versionCode = 1
        versionName = "0.1.0"
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            isShrinkResources = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    packaging {
        // Keep .so files uncompressed and page-aligned in the APK so they load in place (16 KB pages).
        jniLibs.useLegacyPackaging = false
    }
}

dependencies {
    // Platform APIs only: no AndroidX or Compose in the app, so it stays small and checkable.
    implementation(project(":wallet-sdk"))
}
