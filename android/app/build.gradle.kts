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
        // Where this city publishes, and the publisher's public key (printed by `cityguide keygen`). Another city sets
        // both in gradle.properties or on the command line (-Pcityguide.catalogUrl=... -Pcityguide.publisherKey=...).
        // The defaults are the Varna demonstration: a real key whose secret is public (data/keys/README.md), never a
        // placeholder; the core refuses weak keys such as all zeros when the guide opens.
        val catalogUrl = providers.gradleProperty("cityguide.catalogUrl").getOrElse("http://10.0.2.2:8080/catalog.json")
        val publisherKey = providers.gradleProperty("cityguide.publisherKey")
            .getOrElse("ed25519:a22c02eedb3ec798a3013f1a3934148c5d885bc95b02112e0551e9e901f539cd")
        buildConfigField("String", "CATALOG_URL", "\"$catalogUrl\"")
        buildConfigField("String", "PUBLISHER_KEY", "\"$publisherKey\"")
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
