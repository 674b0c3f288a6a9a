// swift-tools-version: 5.9
// The thin Cityguide iOS app: open this folder in Xcode (or Swift Playgrounds) and run it on a device or simulator.
// All logic sits in the Cityguide library (../..); the app only draws. Build the native core first with
// scripts/build-xcframework.sh. This package is not part of the library's Linux test build.
import AppleProductTypes
import PackageDescription

let package = Package(
    name: "Cityguide",
    platforms: [.iOS("16.0")],
    products: [
        .iOSApplication(
            name: "Cityguide",
            targets: ["AppModule"],
            bundleIdentifier: "org.cityguide.app",
            teamIdentifier: "",
            displayVersion: "1.0",
            bundleVersion: "1",
            appIcon: .placeholder(icon: .map),
            accentColor: .presetColor(.blue),
            supportedDeviceFamilies: [.pad, .phone],
            supportedInterfaceOrientations: [
                .portrait, .landscapeRight, .landscapeLeft, .portraitUpsideDown(.when(deviceFamilies: [.pad])),
            ],
            capabilities: [
                .locationWhenInUse(purposeString: "To show the places near you and guide your walking tours."),
            ]
        ),
    ],
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "AppModule",
            dependencies: [.product(name: "Cityguide", package: "ios")],
            path: "Sources"
        ),
    ]
)
