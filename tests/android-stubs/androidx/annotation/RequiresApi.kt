// Compile-check stand-in for `androidx.annotation.RequiresApi` (artifact androidx.annotation on
// Google Maven, which this build machine cannot reach). The UniFFI-generated Android bindings
// annotate their Cleaner with it. Only ../shared/tools/android-check sees this file; the Gradle
// build of android/ uses the real library (wallet-sdk depends on androidx.annotation).
package androidx.annotation

@Retention(AnnotationRetention.BINARY)
@Target(
    AnnotationTarget.CLASS,
    AnnotationTarget.FUNCTION,
    AnnotationTarget.CONSTRUCTOR,
    AnnotationTarget.FIELD,
    AnnotationTarget.FILE,
    AnnotationTarget.PROPERTY_GETTER,
    AnnotationTarget.PROPERTY_SETTER,
)
annotation class RequiresApi(val value: Int = 1, val api: Int = 1)
