// The guide's network access on Apple's (and swift-corelibs') URLSession.
//
// The core never opens a socket itself: it asks the app's `Transport` for one bounded request at a time (a catalog,
// or a byte range of a pack or delta) and decides on its own what to trust. This transport keeps the contract the core
// relies on: it sends `Range`, never hands back more than `maxResponseBytes` (it cancels the download as soon as the
// cap is passed, so endless data costs at most one cap), gives up on a stalled connection after `timeoutMs`, reports
// HTTP error statuses as responses, and maps network failures to the few cases the core distinguishes.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import CityguideFFI

/// A `Transport` for the guide built on `URLSession`.
///
/// Calls are blocking (the core calls from its own worker thread, never from the main thread). One instance is meant
/// to be shared by the whole app; it keeps a single ephemeral session (no cookies, no cache, no credentials on disk).
public final class URLSessionTransport: Transport, @unchecked Sendable {
    // @unchecked: all mutable state lives in `TaskTable` behind a lock; URLSession itself is thread-safe.
    private let session: URLSession
    private let table: TaskTable
    private let resourceTimeout: TimeInterval

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - resourceTimeout: the longest one request may take in total, seconds (each request's own `timeoutMs`
    ///     bounds how long the connection may stall).
    ///   - configuration: a base configuration to start from (for example one with a proxy); caching and cookies are
    ///     switched off in any case, because the core verifies and stores everything itself.
    public init(resourceTimeout: TimeInterval = 120, configuration: URLSessionConfiguration = .ephemeral) {
        let config = configuration
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.timeoutIntervalForResource = resourceTimeout
        let table = TaskTable()
        let queue = OperationQueue()
        queue.name = "cityguide.transport"
        queue.maxConcurrentOperationCount = 1
        self.table = table
        self.resourceTimeout = resourceTimeout
        self.session = URLSession(configuration: config, delegate: SessionDelegate(table: table), delegateQueue: queue)
    }

    deinit {
        session.invalidateAndCancel()
    }

    /// Makes one request; see the `Transport` protocol for the contract.
    public func send(request: HttpRequest) throws -> HttpResponse {
        guard let url = URL(string: request.url), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https"
        else {
            throw TransportError.Other(reason: "not an http(s) URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.timeoutInterval = max(Double(request.timeoutMs) / 1000, 0.001)
        urlRequest.cachePolicy = .reloadIgnoringLocalCacheData
        // Byte ranges must address the stored bytes, not a transparently decompressed body.
        urlRequest.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        switch request.method {
        case .get:
            urlRequest.httpMethod = "GET"
            if let range = request.range {
                let length = max(range.length, 1)
                let (end, overflow) = range.start.addingReportingOverflow(length - 1)
                if overflow {
                    throw TransportError.Other(reason: "byte range out of bounds")
                }
                urlRequest.setValue("bytes=\(range.start)-\(end)", forHTTPHeaderField: "Range")
            }
        case .post:
            urlRequest.httpMethod = "POST"
            urlRequest.httpBody = request.body.map { Data($0) } ?? Data()
            if let type = request.contentType {
                urlRequest.setValue(type, forHTTPHeaderField: "Content-Type")
            }
        }

        let task = session.dataTask(with: urlRequest)
        let pending = Pending(maxBytes: request.maxResponseBytes)
        table.insert(pending, for: task.taskIdentifier)
        task.resume()
        // The resource timeout of the session ends every task; the extra margin only guards against a lost callback.
        if pending.done.wait(timeout: .now() + resourceTimeout + 5) == .timedOut {
            task.cancel()
            table.remove(task.taskIdentifier)
            throw TransportError.Timeout
        }
        return try pending.result()
    }
}

/// The state of one running request, filled in on the session's delegate queue and read by the waiting caller after
/// `done` is signalled (the semaphore orders the accesses).
private final class Pending: @unchecked Sendable {
    let maxBytes: UInt64
    let done = DispatchSemaphore(value: 0)
    var status: UInt16 = 0
    var totalSize: UInt64?
    var body = Data()
    var tooLarge = false
    var error: Error?

    init(maxBytes: UInt64) {
        self.maxBytes = maxBytes
    }

    func result() throws -> HttpResponse {
        if tooLarge {
            throw TransportError.TooLarge(maxBytes: maxBytes)
        }
        if let error {
            throw Pending.classify(error)
        }
        return HttpResponse(status: status, body: body, totalSize: totalSize)
    }

    /// The core only needs to tell "no network" and "too slow" from everything else.
    static func classify(_ error: Error) -> TransportError {
        guard let urlError = error as? URLError else {
            return .Other(reason: String(describing: type(of: error)))
        }
        switch urlError.code {
        case .timedOut:
            return .Timeout
        case .notConnectedToInternet, .cannotConnectToHost, .cannotFindHost, .networkConnectionLost,
             .dnsLookupFailed, .internationalRoamingOff, .dataNotAllowed, .callIsActive:
            return .Offline
        default:
            // The code, not the description: descriptions may contain the URL, which error messages never carry.
            return .Other(reason: "URL error \(urlError.code.rawValue)")
        }
    }
}

/// Running requests by task id, shared by the transport and the session delegate.
private final class TaskTable: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [Int: Pending] = [:]

    func insert(_ p: Pending, for id: Int) {
        lock.lock()
        defer { lock.unlock() }
        pending[id] = p
    }

    func get(_ id: Int) -> Pending? {
        lock.lock()
        defer { lock.unlock() }
        return pending[id]
    }

    @discardableResult
    func remove(_ id: Int) -> Pending? {
        lock.lock()
        defer { lock.unlock() }
        return pending.removeValue(forKey: id)
    }
}

/// Reads a header case-insensitively (the header dictionary's keys keep the server's spelling on some platforms).
private func header(_ response: HTTPURLResponse, _ name: String) -> String? {
    for (key, value) in response.allHeaderFields {
        if let key = key as? String, key.caseInsensitiveCompare(name) == .orderedSame {
            return value as? String
        }
    }
    return nil
}

private final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let table: TaskTable

    init(table: TaskTable) {
        self.table = table
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        guard let p = table.get(dataTask.taskIdentifier) else {
            completionHandler(.cancel)
            return
        }
        guard let http = response as? HTTPURLResponse else {
            p.error = URLError(.badServerResponse)
            completionHandler(.cancel)
            return
        }
        p.status = UInt16(clamping: http.statusCode)
        if let range = header(http, "Content-Range"), let total = range.split(separator: "/").last {
            p.totalSize = UInt64(total.trimmingCharacters(in: .whitespaces))
        } else if http.statusCode == 200, let length = header(http, "Content-Length") {
            p.totalSize = UInt64(length.trimmingCharacters(in: .whitespaces))
        }
        // Refuse early when the server announces more than the cap.
        if let length = header(http, "Content-Length").flatMap({ UInt64($0.trimmingCharacters(in: .whitespaces)) }),
           length > p.maxBytes
        {
            p.tooLarge = true
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let p = table.get(dataTask.taskIdentifier), !p.tooLarge else { return }
        if UInt64(p.body.count) + UInt64(data.count) > p.maxBytes {
            p.tooLarge = true
            dataTask.cancel()
            return
        }
        p.body.append(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let p = table.remove(task.taskIdentifier) else { return }
        // Keep the first reason: a task cancelled for a bad response completes with a "cancelled" error.
        if let error, !p.tooLarge, p.error == nil {
            p.error = error
        }
        p.done.signal()
    }
}
