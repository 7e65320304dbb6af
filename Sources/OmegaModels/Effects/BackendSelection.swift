import Foundation
import OmegaCore

/// Chooses and builds the backend from flags, environment and configuration:
/// `--backend NAME` over `$OMEGA_BACKEND` over `backend = "NAME"` in the
/// configuration, default `simulate`; `--replay FILE` means the replay
/// backend; `--record FILE` wraps whichever backend answers.
public struct BackendSelection {
    /// `--backend` (nil: `$OMEGA_BACKEND`, the file, then `simulate`).
    public var name: String?
    /// `--record FILE`.
    public var record: String?
    /// `--replay FILE`.
    public var replay: String?

    /// A selection as the flags give it.
    public init(name: String? = nil, record: String? = nil, replay: String? = nil) {
        self.name = name
        self.record = record
        self.replay = replay
    }

    /// The backends Omega knows.
    public static let names = ["simulate", "openai", "anthropic", "ollama", "replay"]

    /// Builds the backend; errors say which setting is wrong.
    public func make(configuration: Configuration, models: ModelSettings,
                     environment: [String: String] = ProcessEnvironment.variables()) throws -> ModelBackend {
        let configured = try configuration.string("backend")
        let fromEnvironment = environment["OMEGA_BACKEND"].flatMap { $0.isEmpty ? nil : $0 }
        let chosen = name ?? fromEnvironment ?? configured ?? (replay != nil ? "replay" : "simulate")
        guard BackendSelection.names.contains(chosen) else {
            throw ConfigError(place: "backend", message: "unknown backend '\(chosen)' (known: \(BackendSelection.names.joined(separator: ", ")))")
        }
        var backend: ModelBackend
        switch chosen {
        case "simulate":
            var s = SimulatorBackend(tokens: models.tokens)
            if let v = try configuration.number("simulate.latency", in: 0...3600) { s.latency = v }
            if let v = try configuration.number("simulate.min-ratio", in: 0...100) { s.minRatio = v }
            if let v = try configuration.number("simulate.max-ratio", in: 0...100) { s.maxRatio = v }
            guard s.minRatio <= s.maxRatio else {
                throw ConfigError(place: configuration.lookup("simulate.min-ratio")?.place ?? "config", key: "simulate.min-ratio",
                                  message: "must not be above simulate.max-ratio (\(s.maxRatio))")
            }
            s.fault = try configuration.string("simulate.fault")
            if let f = s.fault, !SimulatorBackend.faults.contains(f) {
                throw ConfigError(place: configuration.lookup("simulate.fault")?.place ?? "config", key: "simulate.fault",
                                  message: "unknown fault '\(f)' (known: \(SimulatorBackend.faults.joined(separator: ", ")))")
            }
            backend = s
        case "replay":
            let configuredFile = try configuration.string("replay")
            guard let file = replay ?? configuredFile else {
                throw ConfigError(place: "backend", message: "the replay backend needs --replay FILE")
            }
            backend = try ReplayBackend(file: URL(fileURLWithPath: file))
        default:
            backend = try HTTPBackends.make(chosen, configuration: configuration, models: models, environment: environment)
        }
        if let r = record {
            backend = try RecordingBackend(backend, file: URL(fileURLWithPath: r))
        }
        return backend
    }
}

extension Configuration {
    /// A number setting (integer or decimal).
    public func number(_ path: String) throws -> Double? {
        try number(path, in: -1e300...1e300)
    }

    /// A finite number setting within `range` (nan, inf and numbers out of
    /// range are errors naming the key, read when the file is).
    public func number(_ path: String, in range: ClosedRange<Double>) throws -> Double? {
        guard let (v, place) = lookup(path) else { return nil }
        guard let text = v.numberText, let d = Double(text) else {
            throw ConfigError(place: place, key: path, message: "expected a number, got \(v.kind)")
        }
        guard let ok = CheckedNumber.within(d, range) else {
            throw ConfigError(place: place, key: path, message: "expected a number from \(CheckedNumber.describe(range)), got \(text)")
        }
        return ok
    }

    /// A positive whole number setting.
    public func positiveInteger(_ path: String) throws -> Int? {
        guard let (v, place) = lookup(path) else { return nil }
        guard case .integer(let n) = v, n > 0 else {
            throw ConfigError(place: place, key: path, message: "expected a positive whole number, got \(v.kind)")
        }
        return n
    }

    /// The effect path's defaults from `[effects]`.
    public func effectSettings() throws -> EffectSettings {
        var s = EffectSettings()
        if let n = try positiveInteger("effects.max-tokens") {
            guard n <= 10_000_000 else {
                throw ConfigError(place: lookup("effects.max-tokens")?.place ?? "config", key: "effects.max-tokens",
                                  message: "must be at most 10000000 (no model answers with more), got \(n)")
            }
            s.defaultMaxTokens = n
        }
        if let n = try positiveInteger("effects.max-in-flight") { s.maxInFlight = n }
        if let n = try positiveInteger("effects.samples") { s.samples = n }
        if let t = try number("effects.timeout", in: 0...1_000_000) {
            guard t > 0 else { throw ConfigError(place: lookup("effects.timeout")?.place ?? "config", key: "effects.timeout", message: "must be positive") }
            s.timeout = t
        }
        return s
    }
}
