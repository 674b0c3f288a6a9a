// The publisher's side of the end-to-end tests: the real `cityguide` binary makes a key, publishes a site from a copy
// of the Varna sources and serves it on loopback, exactly as a city's culture department would.

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths the tests need, from the environment `scripts/test-swift.sh` sets, with fallbacks for a plain `swift test`
/// run from `ios/` after `cargo build`.
enum Paths {
    /// The repository root (this file is ios/Tests/CityguideTests/Publisher.swift).
    static let repo = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `cityguide` binary.
    static var cli: URL {
        let env = ProcessInfo.processInfo.environment
        if let path = env["CITYGUIDE_BIN"] {
            return URL(fileURLWithPath: path)
        }
        let target = env["CARGO_TARGET_DIR"].map { URL(fileURLWithPath: $0) } ?? repo.appendingPathComponent("target")
        return target.appendingPathComponent("debug/cityguide")
    }
}

/// A scratch directory removed when the test ends.
func scratchDirectory(_ test: XCTestCase) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cityguide-swift-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

struct CommandFailed: Error, CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    let stderr: String
    var description: String { "cityguide \(arguments.joined(separator: " ")) exited \(status): \(stderr)" }
}

/// Runs `cityguide ARGS` to completion and returns its standard output; throws with its standard error on failure.
@discardableResult
func cityguide(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = Paths.cli
    process.arguments = arguments
    process.currentDirectoryURL = Paths.repo
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting so a large output cannot fill the pipe and stall the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailed(
            arguments: arguments, status: process.terminationStatus,
            stderr: String(decoding: stderr, as: UTF8.self))
    }
    return String(decoding: stdout, as: UTF8.self)
}

/// A publisher with a key and a site built from a copy of the Varna sources.
final class Publisher {
    let dir: URL
    let sources: URL
    let site: URL
    let key: URL
    /// The public key the app embeds ("ed25519:…").
    let publicKey: String

    init(in dir: URL, city: String = "data/varna") throws {
        self.dir = dir
        sources = dir.appendingPathComponent("src")
        site = dir.appendingPathComponent("site")
        key = dir.appendingPathComponent("publisher.key")
        try FileManager.default.copyItem(at: Paths.repo.appendingPathComponent(city), to: sources)
        publicKey = try Publisher.keygen(key)
    }

    /// Makes a key pair in `file` and returns its public key.
    static func keygen(_ file: URL) throws -> String {
        let out = try cityguide(["keygen", "-o", file.path])
        let prefix = "public key for the apps: "
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            throw CommandFailed(arguments: ["keygen"], status: 0, stderr: "no public key in: \(out)")
        }
        return String(line.dropFirst(prefix.count))
    }

    /// What `cityguide publish --json` reports.
    struct Published: Decodable {
        let version: UInt64
        let catalog_version: UInt64
        let compressed_size: UInt64
        let new_version: Bool
    }

    /// Publishes the current sources into the site (a new version when they changed).
    func publish() throws -> Published {
        let out = try cityguide([
            "publish", "--source", sources.path, "--site", site.path, "--key", key.path, "--json",
        ])
        return try JSONDecoder().decode(Published.self, from: Data(out.utf8))
    }

    /// Edits one language's text file of the sources, as the culture department would in a spreadsheet.
    func edit(texts language: String, replacing old: String, with new: String) throws {
        let file = sources.appendingPathComponent("texts/\(language).csv")
        let text = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(text.contains(old), "the sources contain the text to edit")
        try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
    }
}

/// `cityguide serve` on a free loopback port; stopped by `stop()` or when the test ends.
final class Server {
    private let process: Process
    /// The site's base URL, ending in "/".
    let url: URL

    init(site: URL, test: XCTestCase) throws {
        process = Process()
        process.executableURL = Paths.cli
        process.arguments = ["serve", site.path, "--addr", "127.0.0.1:0"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line ends with the URL it listens on.
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let last = text.split(separator: " ").last, last.hasPrefix("http://127.0.0.1:"),
              let url = URL(string: String(last))
        else {
            Server.kill(process)
            throw CommandFailed(arguments: ["serve"], status: 0, stderr: "unexpected first line: \(text)")
        }
        self.url = url
        test.addTeardownBlock { [process] in Server.kill(process) }
    }

    /// SIGKILL rather than `terminate()`: a child spawned by Foundation's `Process` on Linux may inherit a signal
    /// mask that blocks SIGTERM, and the server has nothing to clean up.
    private static func kill(_ process: Process) {
        guard process.isRunning else { return }
        #if canImport(Glibc)
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        #else
        _ = Darwin.kill(process.processIdentifier, SIGKILL)
        #endif
        process.waitUntilExit()
    }

    /// The catalog's URL.
    var catalog: URL { url.appendingPathComponent("catalog.json") }

    /// Stops serving (the network "goes away").
    func stop() {
        Server.kill(process)
    }
}
