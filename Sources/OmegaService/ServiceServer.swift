import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import OmegaModels
import ServiceLifecycle

/// `omega serve`: the budget service over HTTP (Hummingbird).
///
/// | route | what |
/// |---|---|
/// | `POST /rpc` | JSON-RPC 2.0 (`ServiceRPC`) |
/// | `GET /events` | `tokens.updated` as server-sent events; with `Upgrade: websocket`, as JSON-RPC notifications |
/// | `POST /v1/chat/completions` | OpenAI-compatible: reserve, forward to the backend, settle; 429 over budget |
/// | `GET /v1/models` | the default model, for clients that ask |
/// | `GET /metrics` | Prometheus text |
/// | `GET /healthz` | 200 when the ledger answers, 503 when it does not |
///
/// Every route but `/healthz` needs `Authorization: Bearer KEY` (or
/// `?key=KEY` on `/events`, for browsers) unless the service was started
/// with `--no-auth`, which only a loopback address may use.
///
/// SIGTERM or SIGINT shut it down cleanly: event streams end, no new
/// request is taken, chat completions in flight finish and settle, client
/// reservations still open are charged at their worst case, and the run is
/// ended in the ledger.
public struct ServiceServer: Sendable {
    /// Where it listens and who may use it.
    public struct Options: Sendable {
        /// The host (an address or name) to listen on.
        public var host = "127.0.0.1"
        /// The port (0: any free one; `onListening` says which).
        public var port = 8787
        /// The API keys; nil: no authentication (`--no-auth`, loopback only).
        public var keys: ServiceKeys?
        /// Seconds between looks for abandoned client reservations.
        public var sweepInterval: Double = 5
        /// Defaults: 127.0.0.1:8787, keys required.
        public init() {}
    }

    let service: BudgetService
    let options: Options
    let log: @Sendable (String) -> Void

    /// A server for `service`; `log` gets one line per event worth knowing.
    public init(service: BudgetService, options: Options,
                log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(("omega serve: " + $0 + "\n").utf8)) }) {
        self.service = service
        self.options = options
        self.log = log
    }

    /// Whether `host` is a loopback address (where `--no-auth` is allowed).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    // MARK: Authentication

    static let agentHeader = HTTPField.Name("X-Omega-Agent")
    static let workflowHeader = HTTPField.Name("X-Omega-Workflow")
    static let sharedHeader = HTTPField.Name("X-Omega-Shared-Budgets")

    func caller(_ request: Request) throws -> BudgetService.Caller {
        guard let keys = options.keys else {
            // Without keys, a client may name its agent and workflow itself.
            let shared = ServiceServer.sharedHeader.flatMap { request.headers[$0] }?
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
            return BudgetService.Caller(key: "-", agent: ServiceServer.agentHeader.flatMap { request.headers[$0] },
                                        workflow: ServiceServer.workflowHeader.flatMap { request.headers[$0] }, shared: shared)
        }
        var token = request.headers[.authorization].flatMap { h -> String? in
            let parts = h.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
        }
        if token == nil, request.uri.path == "/events" { token = request.uri.queryParameters.get("key") }
        guard let token, let entry = keys.entry(for: token) else {
            throw ServiceError(code: -32000, status: 401, kind: "invalid_api_key",
                               message: "missing or unknown API key: send Authorization: Bearer KEY with a key from the service's keys file")
        }
        return entry.caller
    }

    // MARK: Responses

    static func json(_ v: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: ServiceJSON.data(v))))
    }

    static func failure(_ e: ServiceError) -> Response {
        json(ChatWire.error(e), status: HTTPResponse.Status(code: e.status))
    }

    static func body(_ request: Request) async throws -> Data {
        var r = request
        do {
            let buffer = try await r.collectBody(upTo: 8 << 20)
            return Data(buffer.readableBytesView)
        } catch {
            throw ServiceError(code: -32600, status: 413, kind: "invalid_request_error", message: "the request body is over 8 MiB")
        }
    }

    /// Answers a request for its authenticated caller; any failure (no
    /// key, bad input, a refusal) becomes its error response.
    func authorized(_ request: Request, _ body: (BudgetService.Caller) async throws -> Response) async -> Response {
        do {
            return try await body(try caller(request))
        } catch {
            return ServiceServer.failure(ServiceError.from(error))
        }
    }

    // MARK: Routes

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let rpc = ServiceRPC(service: service)
        router.get("/healthz") { _, _ in
            do {
                try await service.checkLedger()
                return ServiceServer.json(.object(["status": .string("ok")]))
            } catch {
                return ServiceServer.json(.object(["status": .string("unavailable"), "error": .string("\(ServiceError.from(error))")]),
                                          status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { request, _ in
            await authorized(request) { _ in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: ResponseBody(byteBuffer: ByteBuffer(string: service.metrics.text())))
            }
        }
        router.post("/rpc") { request, _ in
            await authorized(request) { who in
                let body = try await ServiceServer.body(request)
                guard let answer = await rpc.handle(body, caller: who) else { return Response(status: .noContent) }
                return ServiceServer.json(answer)
            }
        }
        router.get("/events") { request, _ in
            await authorized(request) { _ in
                let stream = service.events.subscribe()
                return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                                body: ResponseBody { writer in
                                    try await writer.write(ByteBuffer(string: ": omega budget events\n\n"))
                                    for await event in stream { try await writer.write(ByteBuffer(string: event.serverSent)) }
                                    try await writer.finish(nil)
                                })
            }
        }
        router.get("/v1/models") { request, _ in
            await authorized(request) { _ in
                let model = service.defaultModel
                return ServiceServer.json(.object(["object": .string("list"), "data": .array([.object([
                    "id": .string(model), "object": .string("model"), "created": .integer(0), "owned_by": .string("omega")])])]))
            }
        }
        router.post("/v1/chat/completions") { request, _ in
            await authorized(request) { who in
                let wire = try ChatWire.request(try await ServiceServer.body(request))
                let r = try await service.chatRequest(model: wire.model, messages: wire.messages, maxTokens: wire.maxTokens,
                                                      temperature: wire.temperature, stop: wire.stop, caller: who)
                let result = try await service.complete(r)
                let id = "chatcmpl-" + r.id.dropFirst(4), created = Int(Date().timeIntervalSince1970)
                guard wire.stream else { return ServiceServer.json(ChatWire.completion(result, id: id, created: created)) }
                let chunks = ChatWire.chunks(result, id: id, created: created, includeUsage: wire.includeUsage)
                return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                                body: ResponseBody { writer in
                                    for c in chunks { try await writer.write(ByteBuffer(string: c)) }
                                    try await writer.finish(nil)
                                })
            }
        }
        return router
    }

    func webSocketRouter() -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/events") { request, _ in
            (try? caller(request)) == nil ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { _, outbound, _ in
            for await event in service.events.subscribe() {
                try await outbound.write(.text(event.notification))
            }
        }
        return router
    }

    // MARK: Running

    /// Serves until SIGTERM or SIGINT, then shuts down cleanly (see above).
    /// `onListening` gets the port actually bound.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "omega.serve")
        logger.logLevel = .warning
        let app = Application(router: router(), server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter()),
                              configuration: .init(address: .hostname(options.host, port: options.port), serverName: "omega"),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
                              logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        let shutdown = ShutdownSignals { [service, log] in
            log("shutting down: taking no new requests, finishing the calls in flight")
            service.events.finish()
            await group.triggerGracefulShutdown()
        }
        let sweeper = Task { [service, options] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(options.sweepInterval * 1e9))
                await service.sweep()
            }
        }
        defer { sweeper.cancel(); shutdown.cancel() }
        try await group.run()
        await service.shutDown()
        log("stopped")
    }
}

/// SIGTERM and SIGINT, caught (not the default death) and turned into one
/// call of `handler`.
final class ShutdownSignals: @unchecked Sendable {  // sources are only touched at init and cancel
    private var sources: [DispatchSourceSignal] = []

    init(_ handler: @escaping @Sendable () async -> Void) {
        let once = OnceFlag()
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { if once.claim() { Task { await handler() } } }
            s.resume()
            sources.append(s)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

/// True the first time only.
final class OnceFlag: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var done = false
    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}

extension BudgetService {
    /// Reads the ledger's total, to tell whether it answers (`/healthz`).
    func checkLedger() async throws {
        try await onMeter { [self] in
            guard let ledger = meter.ledger else { return }
            do { _ = try ledger.windowTotal("total") } catch { throw ServiceError.ledger("the ledger does not answer: \(error)") }
        }
    }
}
