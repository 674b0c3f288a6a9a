// The URLSession transport keeps the contract the core relies on: byte ranges, HTTP errors as answers, a hard cap on
// what it returns, timeouts on a silent server, and "offline" when nothing listens.

import Cityguide
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class TransportTests: XCTestCase {
    private var site: URL!
    private var server: Server!
    private var pack: Data!

    override func setUp() async throws {
        let tmp = try scratchDirectory(self)
        site = tmp.appendingPathComponent("site")
        try FileManager.default.createDirectory(at: site, withIntermediateDirectories: true)
        // Bytes whose value depends on their position, so a wrong range shows.
        pack = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 256) })
        try pack.write(to: site.appendingPathComponent("blob.bin"))
        server = try Server(site: site, test: self)
    }

    private func get(
        _ name: String, range: ByteRange? = nil, max: UInt64 = 1 << 20, timeoutMs: UInt32 = 5000
    ) throws -> HttpResponse {
        try URLSessionTransport().send(
            request: HttpRequest(
                method: .get, url: server.url.appendingPathComponent(name).absoluteString, range: range,
                maxResponseBytes: max, timeoutMs: timeoutMs, headers: [], body: nil, contentType: nil))
    }

    func testWholeFile() throws {
        let response = try get("blob.bin")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, pack)
        // The development server streams whole files chunked (no Content-Length); a size, when sent, is the file's.
        if let total = response.totalSize {
            XCTAssertEqual(total, UInt64(pack.count))
        }
    }

    func testRangeReturnsExactlyThoseBytes() throws {
        let response = try get("blob.bin", range: ByteRange(start: 70_000, length: 1234))
        XCTAssertEqual(response.status, 206)
        XCTAssertEqual(response.body, pack.subdata(in: 70_000..<71_234))
        XCTAssertEqual(response.totalSize, UInt64(pack.count), "the full size comes from Content-Range")
    }

    func testHttpErrorIsAnAnswerNotAFailure() throws {
        let response = try get("missing.bin")
        XCTAssertEqual(response.status, 404)
    }

    func testBodyOverTheCapIsRefused() {
        XCTAssertThrowsError(try get("blob.bin", max: 1000)) { error in
            guard case let TransportError.TooLarge(maxBytes) = error else {
                return XCTFail("expected TooLarge, got \(error)")
            }
            XCTAssertEqual(maxBytes, 1000)
        }
        // Exactly at the cap is fine.
        XCTAssertEqual(try get("blob.bin", max: UInt64(pack.count)).body.count, pack.count)
    }

    func testNothingListeningIsOffline() throws {
        server.stop()
        XCTAssertThrowsError(try get("blob.bin")) { error in
            guard case TransportError.Offline = error else { return XCTFail("expected Offline, got \(error)") }
        }
    }

    func testSilentServerTimesOut() throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let started = Date()
        XCTAssertThrowsError(
            try URLSessionTransport().send(
                request: HttpRequest(
                    method: .get, url: "http://127.0.0.1:\(silent.port)/catalog.json", range: nil,
                    maxResponseBytes: 1000, timeoutMs: 300, headers: [], body: nil, contentType: nil))
        ) { error in
            guard case TransportError.Timeout = error else { return XCTFail("expected Timeout, got \(error)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "gave up long before the resource timeout")
    }

    func testNonHttpUrlIsRefused() {
        XCTAssertThrowsError(
            try URLSessionTransport().send(
                request: HttpRequest(
                    method: .get, url: "file:///etc/passwd", range: nil, maxResponseBytes: 1000, timeoutMs: 1000,
                    headers: [], body: nil, contentType: nil))
        ) { error in
            guard case TransportError.Other(_) = error else { return XCTFail("expected Other, got \(error)") }
        }
    }
}

/// A TCP socket on loopback that accepts connections (the kernel completes the handshake) and never answers.
private final class SilentListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        self.fd = fd
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var out = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: out.sin_port)
    }

    func close() {
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
    }
}
