// The thin Android app: Jetpack Compose screens over org.cityguide.guide.CityGuide. All logic is in the library.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

android {
    namespace = "org.cityguide.app"
    compileSdk = 35
    defaultConfig {
        applicationId = "org.cityguide.app"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // Where this city publishes, and the publisher's key (from `cityguide keygen`). Another city changes these two.
        buildConfigField("String", "CATALOG_URL", "\"https://guide.example.invalid/varna/catalog.json\"")
        buildConfigField("String", "PUBLISHER_KEY", "\"ed25519:REPLACE_WITH_THE_PUBLISHER_KEY\"")
    }
    buildFeatures {
        compose = true
        buildConfig = true
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    sourceSets["main"].java.srcDirs("src/main/kotlin")
}

kotlin {
    compilerOptions { jvmTarget.set(org.jetbrains.kotlin.gradle.dsl.JvmTarget.JVM_17) }
}

dependencies {
    implementation(project(":guide"))
    implementation(platform("androidx.compose:compose-bom:2024.12.01"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.ui:ui")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.8.7")
    implementation("com.google.android.gms:play-services-location:21.3.0")
}
