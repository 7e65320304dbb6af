import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import OmegaCore

/// HTTP for the model backends: one shared AsyncHTTPClient (connections are
/// reused), per-request timeouts, and retries with exponential backoff and
/// jitter on 429, 5xx and connection errors, honouring `Retry-After`. Other
/// 4xx answers are not retried. Error messages quote the server's error text
/// and never contain the API key.
struct HTTPTransport: Sendable {
    /// The process-wide client (AsyncHTTPClient pools connections per host).
    /// Its pool allows more connections per host than any backend may use:
    /// `ConnectionSlots` does the limiting, so a request never waits in the
    /// pool's own queue (which gives up after the connect timeout).
    static let client: HTTPClient = {
        // Redirects are not followed: credentials (Authorization, x-api-key)
        // must never reach another origin; a redirect is reported instead.
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(3)))
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = HTTPTransport.connectionLimit
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
    /// The most `max-connections` may be.
    static let connectionLimit = 256
    /// Connections to one server a backend uses at once (`[openai] max-connections`, …).
    static let defaultMaxConnections = 8

    /// Attempts per request (the first try included).
    var attempts = 4
    /// Attempts when the server cannot be reached at all (each may take the
    /// 3 s connect timeout).
    var connectionAttempts = 2
    /// The first backoff; it doubles on each retry, up to `maxDelay`.
    var baseDelay = 0.5
    var maxDelay = 8.0
    /// Secrets to scrub from any message (the API key).
    var secrets: [String] = []
    /// Requests this backend keeps open to one server at once; more calls
    /// wait their turn (within their own timeout).
    var maxConnections = HTTPTransport.defaultMaxConnections
    /// The configuration key that sets `maxConnections`, for messages.
    var maxConnectionsKey = "max-connections"

    /// Runs `body` holding one of the server's connections, waiting for one
    /// until the call's timeout; `body` gets the seconds left.
    func withConnection<T>(_ url: String, timeout: Double, _ body: (Double) async throws -> T) async throws -> T {
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        let slots = ConnectionSlots.forServer(server(url), limit: min(maxConnections, HTTPTransport.connectionLimit))
        guard try await slots.acquire(until: deadline) else {
            throw BackendError(.timeout, "no answer within \(timeout.formatted()) s: the call waited all that time for a free connection to \(host(url)) (all \(slots.limit) in use; raise \(maxConnectionsKey) or lower parallel-map's max-in-flight)")
        }
        defer { slots.release() }
        return try await body(max(0.001, deadline.timeIntervalSinceNow))
    }

    /// `scheme://host:port` of a URL: connections are per server.
    func server(_ url: String) -> String {
        guard let u = URL(string: url) else { return url }
        return "\(u.scheme ?? "http")://\(u.host ?? "")\(u.port.map { ":\($0)" } ?? "")"
    }

    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Sends a JSON POST and returns the final response body of a 2xx answer;
    /// throws `BackendError` otherwise (after the retries).
    func postJSON(_ url: String, headers: [(String, String)], body: Data, timeout: Double,
                  describeError: @Sendable (Int, Data) -> String) async throws -> Data {
        try await withConnection(url, timeout: timeout) { left in
            try await postJSONHoldingConnection(url, headers: headers, body: body, timeout: left, describeError: describeError)
        }
    }

    private func postJSONHoldingConnection(_ url: String, headers: [(String, String)], body: Data, timeout: Double,
                                           describeError: @Sendable (Int, Data) -> String) async throws -> Data {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await HTTPTransport.client.execute(jsonPost(url, headers, body),
                                                                      timeout: .milliseconds(Int64(timeout * 1000)))
                let bytes = try await response.body.collect(upTo: 64 << 20)
                let data = Data(bytes.readableBytesView)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return data }
                let error = classify(status: status, headers: response.headers, message: describeError(status, data))
                if mayRetry(error, after: attempt) {
                    try await backoff(attempt, retryAfter: error.retryAfter)
                    continue
                }
                throw error
            } catch let e as BackendError {
                throw e
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let e = transportError(error, url: url, timeout: timeout)
                if mayRetry(e, after: attempt) {
                    try await backoff(attempt, retryAfter: nil)
                    continue
                }
                throw e
            }
        }
    }

    /// Sends a JSON POST and hands each line of a 2xx streaming answer to
    /// `line` as it arrives. Returns normally when the server ends the body.
    func postStreaming(_ url: String, headers: [(String, String)], body: Data, timeout: Double,
                       describeError: @Sendable (Int, Data) -> String, line: (String) throws -> Void) async throws {
        try await withConnection(url, timeout: timeout) { left in
            try await postStreamingHoldingConnection(url, headers: headers, body: body, timeout: left,
                                                     describeError: describeError, line: line)
        }
    }

    private func postStreamingHoldingConnection(_ url: String, headers: [(String, String)], body: Data, timeout: Double,
                                                describeError: @Sendable (Int, Data) -> String,
                                                line: (String) throws -> Void) async throws {
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPClientResponse
            do {
                response = try await HTTPTransport.client.execute(jsonPost(url, headers, body),
                                                                  timeout: .milliseconds(Int64(timeout * 1000)))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let e = transportError(error, url: url, timeout: timeout)
                if mayRetry(e, after: attempt) {
                    try await backoff(attempt, retryAfter: nil)
                    continue
                }
                throw e
            }
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                let collected = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
                let data = Data(collected.readableBytesView)
                let error = classify(status: status, headers: response.headers, message: describeError(status, data))
                if mayRetry(error, after: attempt) { try await backoff(attempt, retryAfter: error.retryAfter); continue }
                throw error
            }
            var pending = [UInt8]()
            do {
                for try await chunk in response.body {
                    pending.append(contentsOf: chunk.readableBytesView)
                    while let nl = pending.firstIndex(of: 0x0A) {
                        var l = Array(pending[..<nl])
                        pending.removeSubrange(...nl)
                        if l.last == 0x0D { l.removeLast() }
                        try line(String(decoding: l, as: UTF8.self))
                    }
                }
            } catch let e as BackendError {
                throw e
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The connection broke in the middle: the caller decides what the partial answer is worth.
                throw BackendError(.cutStream, scrub("the stream was cut: \(error)"))
            }
            if !pending.isEmpty { try line(String(decoding: pending, as: UTF8.self)) }
            return
        }
    }

    func jsonPost(_ url: String, _ headers: [(String, String)], _ body: Data) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(bytes: [UInt8](body)))
        return request
    }

    /// Whether attempt number `attempt` that failed with `e` gets another try.
    func mayRetry(_ e: BackendError, after attempt: Int) -> Bool {
        e.isRetryable && attempt < (e.kind == .connection ? connectionAttempts : attempts)
    }

    func classify(status: Int, headers: HTTPHeaders, message: String) -> BackendError {
        let text = scrub(message)
        if (300..<400).contains(status) {
            let to = headers.first(name: "location").map { " to \(scrub($0))" } ?? ""
            return BackendError(.client, "the server answered with a redirect (\(status))\(to): Omega does not follow redirects, so credentials never go to another address; set the base URL to the final one", status: status)
        }
        switch status {
        case 429:
            return BackendError(.rateLimited, "rate limited (429): \(text)", retryAfter: retryAfter(headers), status: status)
        case 500...599:
            return BackendError(.server, "server error (\(status)): \(text)", retryAfter: retryAfter(headers), status: status)
        default:
            return BackendError(.client, "request refused (\(status)): \(text)", status: status)
        }
    }

    func transportError(_ error: Error, url: String, timeout: Double) -> BackendError {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return BackendError(.timeout, "no answer from \(host(url)) within \(timeout.formatted()) s")
        }
        if let e = error as? HTTPClientError, e == .remoteConnectionClosed {
            return BackendError(.connection, "\(host(url)) closed the connection")
        }
        let text = "\(error)"
        if text.contains("Connection refused") || text.contains("errno: 111") {
            return BackendError(.connection, "cannot reach \(host(url)): connection refused")
        }
        return BackendError(.connection, scrub("cannot reach \(host(url)): \(text)"))
    }

    func host(_ url: String) -> String {
        URL(string: url).map { "\($0.host ?? url)\($0.port.map { ":\($0)" } ?? "")" } ?? url
    }

    /// Seconds from a `Retry-After` header (seconds or an HTTP date).
    func retryAfter(_ headers: HTTPHeaders) -> Double? {
        guard let v = headers.first(name: "retry-after") else { return nil }
        if let s = Double(v.trimmingCharacters(in: .whitespaces)) { return max(0, s) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: v).map { max(0, $0.timeIntervalSinceNow) }
    }

    /// Waits before retry `attempt`: the server's Retry-After when given
    /// (capped at 60 s), else base × 2^(attempt−1) with ±25 % jitter.
    func backoff(_ attempt: Int, retryAfter: Double?) async throws {
        let delay: Double
        if let r = retryAfter {
            delay = min(r, 60)
        } else {
            let d = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
            delay = d * Double.random(in: 0.75...1.25)
        }
        try await Task.sleep(nanoseconds: CheckedNumber.sleepNanoseconds(delay))
    }

    func scrub(_ text: String) -> String {
        Secrets.scrub(text)
    }

    /// Registers the credentials a transport sends (see `Secrets`).
    init(secrets: [String]) {
        self.secrets = secrets
        for s in secrets { Secrets.register(s) }
    }

    init() {}
}

/// What the wire formats share.
enum JSON {
    /// The error text of a JSON error body (`{"error": {"message": …}}`,
    /// `{"error": "…"}`, `{"message": …}`), or the body itself, shortened.
    static func errorText(_ data: Data) -> String {
        if let m = decodeWire(WireErrorReply.self, data)?.text { return m }
        // Scrubbed before it is cut short: a key across the cut must not leave half of itself.
        let whole = Secrets.scrub(String(decoding: data.prefix(64 << 10), as: UTF8.self))
        var end = whole.index(whole.startIndex, offsetBy: 300, limitedBy: whole.endIndex) ?? whole.endIndex
        // Nor is the mask itself cut in two.
        if let mask = whole.range(of: Secrets.mask, range: whole.index(end, offsetBy: -(Secrets.mask.count - 1), limitedBy: whole.startIndex).map { $0..<whole.endIndex } ?? whole.startIndex..<whole.endIndex),
           mask.lowerBound < end { end = max(end, mask.upperBound) }
        let text = String(whole[..<end]).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "(empty body)" : text
    }
}
