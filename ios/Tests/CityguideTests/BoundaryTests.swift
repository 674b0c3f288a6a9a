// The FFI boundary never crashes the app: a panic inside the library and damaged bytes both arrive as Swift errors.

import Cityguide
import Foundation
import XCTest

final class BoundaryTests: XCTestCase {
    func testPanicInsideTheLibraryIsASwiftError() {
        XCTAssertThrowsError(try debugPanicForTests()) { error in
            guard case let GuideError.Internal(reason: reason) = error else {
                return XCTFail("expected GuideError.Internal, got \(error)")
            }
            XCTAssertTrue(reason.contains("deliberate panic"), reason)
        }
        // The library is still usable after the panic.
        XCTAssertThrowsError(try debugPanicForTests())
    }

    func testDamagedPackBytesAreAnErrorNotACrash() throws {
        let tmp = try scratchDirectory(self)
        let packFile = tmp.appendingPathComponent("varna.pack")
        try cityguide(["pack", "build", Paths.repo.appendingPathComponent("data/varna").path, "-o", packFile.path])
        let bytes = try Data(contentsOf: packFile)
        let summary = try inspectPack(bytes: bytes)
        XCTAssertEqual(summary.cityId, "varna")
        XCTAssertEqual(summary.defaultLanguage, "bg")
        XCTAssertEqual(summary.sizeBytes, UInt64(bytes.count))

        // Truncated, and with every 97th byte flipped: refused with a reason.
        for damaged in [bytes.prefix(bytes.count / 2), Data(bytes.enumerated().map { $0 % 97 == 5 ? ~$1 : $1 })] {
            XCTAssertThrowsError(try inspectPack(bytes: Data(damaged))) { error in
                guard case GuideError.InvalidPack = error else {
                    return XCTFail("expected GuideError.InvalidPack, got \(error)")
                }
            }
        }
        XCTAssertThrowsError(try inspectPack(bytes: Data()))
    }

    func testBadArgumentsAreExplained() async throws {
        let tmp = try scratchDirectory(self)
        do {
            _ = try await CityGuide(
                dataDirectory: tmp, languages: ["en"], catalogURL: URL(string: "http://127.0.0.1:1/catalog.json"),
                trustedKeys: [])
            XCTFail("a catalog without keys must be refused")
        } catch let GuideError.InvalidArgument(field: field, reason: reason) {
            XCTAssertEqual(field, "trusted keys")
            XCTAssertTrue(reason.contains("key"), reason)
        }
        // A placeholder key that would accept forged catalogs is refused when the guide is configured.
        do {
            _ = try await CityGuide(
                dataDirectory: tmp, languages: ["en"], catalogURL: URL(string: "http://127.0.0.1:1/catalog.json"),
                trustedKeys: ["ed25519:" + String(repeating: "0", count: 64)])
            XCTFail("the all-zero key must be refused")
        } catch let GuideError.InvalidKey(keyIndex: index, problem: problem) {
            XCTAssertEqual(index, 0)
            XCTAssertEqual(problem, .weak)
        }
        // iOS's whole preferred list, unchanged: three-letter languages and regions survive, garbage is reported.
        let languages = try await CityGuide(
            dataDirectory: tmp.appendingPathComponent("langs"),
            languages: ["yue-Hant-HK", "fil-PH", "en_US@rg=gbzzzz", "es-419", "!!"])
        let choice = try await languages.languageChoice()
        XCTAssertEqual(choice.used, ["yue-Hant-HK", "fil-PH", "en-US", "es-419"])
        XCTAssertEqual(choice.skipped.map(\.reason), [.malformed])
        let guide = try await CityGuide(dataDirectory: tmp, languages: ["en"])
        await assertThrowsGuideError(try await guide.nearby(city: "nowhere", at: Position(lat: 0, lon: 0))) { error in
            if case let .NotInstalled(cityId) = error { return cityId == "nowhere" }
            return false
        }
    }
}
