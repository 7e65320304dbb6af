import ArgumentParser
import Foundation
import OmegaCore
import OmegaModels
import OmegaService
import Synchronization

/// `omega serve`: the budget service for agents in any language.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the meter and ledger over HTTP: JSON-RPC, budget events, an OpenAI-compatible endpoint, metrics.",
        discussion: """
            Routes: POST /rpc (JSON-RPC 2.0: tokens.reportUsage, tokens.getBudget, tokens.reserve, \
            tokens.settle, tokens.release), GET /events (tokens.updated as server-sent events, or a \
            WebSocket), POST /v1/chat/completions (metered and forwarded to the configured backend; \
            429 over budget), GET /v1/models, GET /metrics (Prometheus), GET /healthz.
            Clients send Authorization: Bearer KEY with a key from --keys (a TOML file: \
            [keys.NAME] key = "...", agent = "...", workflow = "...", [keys.NAME.limits] tokens = N). \
            --no-auth serves without keys, on a loopback address only.
            Several instances on one PostgreSQL ledger (--ledger postgres://USER@HOST/DB) share \
            every budget exactly. SIGTERM or Ctrl-C stops it cleanly: calls in flight finish and \
            settle, reservations still open are charged at their worst case.
            Settings: [serve] listen, keys, reservation_timeout in the configuration file.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Address and port to listen on (default 127.0.0.1:8787; also [serve] listen).", valueName: "HOST:PORT"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp("The API keys file (also [serve] keys).", valueName: "FILE"))
    var keys: String?

    @Flag(name: .customLong("no-auth"), help: "Serve without API keys (loopback addresses only; agents name themselves with X-Omega-Agent).")
    var noAuth = false

    @Option(name: .long, help: ArgumentHelp("Seconds a client reservation may stay unsettled before it is charged at its worst case (default 600).", valueName: "SECONDS"))
    var reservationTimeout: Double?

    @Option(name: .long, help: ArgumentHelp("The ledger: an SQLite file or postgres://USER@HOST/DB (also $OMEGA_LEDGER, [ledger] url).", valueName: "PATH|URL"))
    var ledger: String?

    @Option(name: .long, help: ArgumentHelp("Where chat completions go: simulate (default), openai, anthropic, ollama (also $OMEGA_BACKEND).", valueName: "NAME"))
    var backend: String?

    @Option(name: .long, help: ArgumentHelp("The model requests use unless they name one (also $OMEGA_MODEL).", valueName: "NAME"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Read this configuration file instead of .omega/config.toml (also $OMEGA_CONFIG).", valueName: "FILE"))
    var config: String?

    /// `HOST:PORT`, `[::1]:PORT` or `:PORT` (all addresses).
    static func address(_ text: String) throws -> (host: String, port: Int) {
        var host = Substring(text), port = Substring("")
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            port = text[close...].dropFirst().drop { $0 == ":" }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard let p = Int(port), (0...65535).contains(p) else {
            throw ValidationError("--listen: expected HOST:PORT such as 127.0.0.1:8787, got '\(text)'")
        }
        return (host.isEmpty ? "0.0.0.0" : String(host), p)
    }

    func run() throws {
        var flags = Session.Flags()
        flags.config = config
        flags.ledger = ledger
        flags.backend = backend
        flags.model = model
        let session = try Session(flags: flags)
        let settings = session.configuration
        let (host, port) = try ServeCommand.address(listen ?? settings.string("serve.listen") ?? "127.0.0.1:8787")
        var options = ServiceServer.Options()
        options.host = host
        options.port = port
        let configuredKeys = try settings.path("serve.keys")?.path
        let keysFile = keys ?? configuredKeys
        if noAuth {
            if keysFile != nil { throw ValidationError("give --keys or --no-auth, not both") }
            guard ServiceServer.isLoopback(host) else {
                throw ValidationError("--no-auth serves anyone who can connect: only on a loopback address (127.0.0.1, ::1, localhost), not \(host)")
            }
        } else {
            guard let keysFile else {
                throw ValidationError("omega serve needs API keys: --keys FILE (or [serve] keys), or --no-auth on a loopback address")
            }
            options.keys = try ServiceKeys(path: keysFile)
        }
        let configuredTimeout = try settings.number("serve.reservation_timeout", in: 1...31_536_000)
        let timeout = reservationTimeout ?? configuredTimeout ?? 600
        guard timeout >= 1 else { throw ValidationError("--reservation-timeout must be at least 1 second") }

        let meter = try session.makeMeter(script: "omega serve")
        for entry in options.keys?.entries ?? [] where !entry.limits.isEmpty {
            if let agent = entry.caller.agent { meter.setLimits(.agent, agent, entry.limits) }
        }
        let backend = try session.makeBackend()
        for w in session.warnings { printError("omega serve: \(w)") }
        let service = BudgetService(meter: meter, backend: backend, effectDefaults: session.effectSettings,
                                    reservationTimeout: timeout)
        let server = ServiceServer(service: service, options: options)
        let ledgerName = meter.ledger?.path ?? "none", runID = meter.runID
        let keysNote = options.keys.map { "\($0.entries.count) API key\($0.entries.count == 1 ? "" : "s")" } ?? "no authentication"
        let outcome = Mutex<Result<Void, Error>>(.success(()))
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                try await server.run { bound in
                    printError("omega serve: listening on http://\(host.contains(":") ? "[\(host)]" : host):\(bound) (ledger \(ledgerName), backend \(backend.name), \(keysNote)); run \(runID)")
                }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        if case .failure(let e) = outcome.withLock({ $0 }) {
            throw SetupError(LedgerError("cannot serve on \(host):\(port): \(e)"))
        }
    }
}
