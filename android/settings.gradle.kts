// Android Studio entry point: the library (generated bindings + Kotlin API) and the thin app.
// The JVM tests of the library run with Maven (guide/pom.xml, scripts/test-kotlin.sh); this build is for devices.
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
rootProject.name = "cityguide"
include(":guide", ":app")
