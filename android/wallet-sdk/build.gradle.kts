import javax.inject.Inject
import org.gradle.process.ExecOperations

plugins {
    alias(libs.plugins.android.library)
}

// The Rust side, and the names this module expects from it (see ../BINDINGS-CONTRACT.md).
val rustWorkspace: Directory =
    rootProject.layout.projectDirectory.dir(providers.gradleProperty("walletcore.rustWorkspace").get())
val ffiPackage = "wallet-ffi"
val ffiLibrary = "libwallet_ffi.so"
val bindgenBinary = "uniffi-bindgen"
val androidUniffiConfig = "bindings/uniffi-android.toml"
val targetAbis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")

android {
    namespace = "org.walletcore.sdk"
    compileSdk = libs.versions.compileSdk.get().toInt()
    ndkVersion = libs.versions.ndk.get()

    defaultConfig {
        minSdk = libs.versions.minSdk.get().toInt()
        consumerProguardFiles("consumer-rules.pro")
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

dependencies {
    implementation(variantOf(libs.jna) { artifactType("aar") })
    implementation(libs.androidx.annotation)
}

/** Builds the Rust library for every ABI with cargo-ndk into `outputDir/<abi>/`. */
abstract class CargoNdkBuild : DefaultTask() {
    @get:Inject abstract val exec: ExecOperations
    @get:Input abstract val cargo: Property<String>
    @get:Input abstract val cratePackage: Property<String>
    @get:Input abstract val profile: Property<String>
    @get:Input abstract val abis: ListProperty<String>
    @get:Input abstract val apiLevel: Property<Int>
    @get:Internal abstract val workspace: DirectoryProperty
    @get:Internal abstract val ndkDirectory: DirectoryProperty

    @get:InputFiles
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val rustSources: ConfigurableFileCollection

    @get:OutputDirectory abstract val outputDir: DirectoryProperty

    @TaskAction
    fun build() {
        val out = outputDir.get().asFile
        out.deleteRecursively()
        out.mkdirs()
        exec.exec {
            workingDir = workspace.get().asFile
            environment("ANDROID_NDK_HOME", ndkDirectory.get().asFile.absolutePath)
            // 16 KB pages (Android 15+ devices; required by Google Play for new apps): NDK r28+
            // aligns by default; the explicit flag keeps the guarantee whatever NDK is installed.
            // Per-target variables so host build scripts and proc-macros are left alone.
            for (triple in listOf("aarch64-linux-android", "armv7-linux-androideabi", "x86_64-linux-android")) {
                val key = "CARGO_TARGET_${triple.uppercase().replace('-', '_')}_RUSTFLAGS"
                environment(key, "-C link-arg=-Wl,-z,max-page-size=16384")
            }
            val targets = abis.get().flatMap { listOf("-t", it) }
            commandLine(
                listOf(cargo.get(), "ndk") + targets +
                    listOf("--platform", apiLevel.get().toString(), "-o", out.absolutePath) +
                    listOf("build", "-p", cratePackage.get(), "--lib", "--profile", profile.get()),
            )
        }
    }
}

/** Generates the UniFFI Kotlin bindings from the built library (library mode, Android config). */
abstract class UniffiKotlin : DefaultTask() {
    @get:Inject abstract val exec: ExecOperations
    @get:Input abstract val cargo: Property<String>
    @get:Input abstract val cratePackage: Property<String>
    @get:Input abstract val bindgen: Property<String>
    @get:Internal abstract val workspace: DirectoryProperty

    @get:InputFile
    @get:PathSensitive(PathSensitivity.NONE)
    abstract val library: RegularFileProperty

    @get:InputFile
    @get:PathSensitive(PathSensitivity.NONE)
    abstract val config: RegularFileProperty

    @get:OutputDirectory abstract val outputDir: DirectoryProperty

    @TaskAction
    fun generate() {
        val out = outputDir.get().asFile
        out.deleteRecursively()
        out.mkdirs()
        exec.exec {
            workingDir = workspace.get().asFile
            commandLine(
                cargo.get(), "run", "--quiet", "-p", cratePackage.get(), "--bin", bindgen.get(), "--",
                "generate", "--library", library.get().asFile.absolutePath,
                "--language", "kotlin", "--config", config.get().asFile.absolutePath,
                "--no-format", "--out-dir", out.absolutePath,
            )
        }
    }
}

androidComponents {
    val ndk = sdkComponents.ndkDirectory
    onVariants { variant ->
        val suffix = variant.name.replaceFirstChar { it.uppercase() }
        // Debug builds still use an optimised library: the tap path has a time budget, and an
        // unoptimised 3DES/AES core would not be representative.
        val rustProfile = if (variant.buildType == "release") "release-smaller" else "release"

        val cargoBuild = tasks.register<CargoNdkBuild>("cargoNdk$suffix") {
            group = "rust"
            description = "Builds $ffiLibrary ($rustProfile) for ${targetAbis.joinToString()} with cargo-ndk"
            cargo.set(providers.gradleProperty("walletcore.cargo"))
            cratePackage.set(ffiPackage)
            profile.set(rustProfile)
            abis.set(targetAbis)
            apiLevel.set(variant.minSdk.apiLevel)
            workspace.set(rustWorkspace)
            ndkDirectory.set(ndk)
            rustSources.from(
                rustWorkspace.asFileTree.matching {
                    include("Cargo.toml", "Cargo.lock", "core/**", "bindings/**", "udl/**")
                    exclude("**/target/**")
                },
            )
        }
        variant.sources.jniLibs?.addGeneratedSourceDirectory(cargoBuild, CargoNdkBuild::outputDir)

        val bindings = tasks.register<UniffiKotlin>("uniffiKotlin$suffix") {
            group = "rust"
            description = "Generates the Kotlin bindings (org.walletcore.ffi) from $ffiLibrary"
            cargo.set(providers.gradleProperty("walletcore.cargo"))
            cratePackage.set(ffiPackage)
            bindgen.set(bindgenBinary)
            workspace.set(rustWorkspace)
            // Library mode reads the interface from the .so's metadata, whatever its ABI.
            library.set(cargoBuild.flatMap { it.outputDir.file("arm64-v8a/$ffiLibrary") })
            config.set(rustWorkspace.file(androidUniffiConfig))
        }
        variant.sources.kotlin?.addGeneratedSourceDirectory(bindings, UniffiKotlin::outputDir)
    }
}
