import Foundation
import OmegaCore

/// Upper bounds on what a provider will bill for a prompt, per backend and
/// model, so that a reservation is never smaller than the charge.
///
/// Omega counts a prompt with an OpenAI encoding and OpenAI's message
/// framing. That count is exact for OpenAI's models; a server with its own
/// tokenizer and chat template bills more (llama.cpp with SmolLM2 bills 37
/// tokens for a question Omega counts as 14: the template adds a default
/// system prompt). So a prompt Omega counts as `c` tokens in `m` messages is
/// reserved as
///
///     ceil(ratio × c) + overhead × m
///
/// - before any reply: `ratio` 1 and `overhead` 0 where the count is exact
///   (OpenAI models with their own encodings; the simulator, which bills
///   Omega's own count), else the conservative prior `priorRatio` (1.5) and
///   `priorOverhead` (32 tokens per message);
/// - after replies that report usage, calibrated: the overhead covers every
///   prompt seen so far — at least the largest observed excess at ratio 1
///   (up to the prior) and at the ratio in force — and the ratio rises to
///   the largest billed/counted ratio of long prompts (≥ 200 tokens), where
///   the tokenizer, not the template, decides. A reply that bills more than
///   the bound raises it at once. Calibrations are kept in the ledger, so
///   the next run starts calibrated; they only ever grow there.
public final class InputBounds {
    /// What has been learnt about one backend and model.
    public struct Calibration: Equatable, Sendable {
        /// Billed tokens per counted token.
        public var ratio: Double
        /// The largest `(billed − counted) / messages` seen, rounded up.
        public var residual: Int
        /// The largest `(billed − ratio × counted) / messages` seen, rounded up.
        public var ratioResidual: Int
        /// Replies that reported usage.
        public var observations: Int

        /// A calibration as stored.
        public init(ratio: Double, residual: Int, ratioResidual: Int, observations: Int) {
            self.ratio = ratio
            self.residual = residual
            self.ratioResidual = ratioResidual
            self.observations = observations
        }
    }

    /// A prompt's bound and whether it is Omega's exact count.
    public struct Bound: Equatable, Sendable {
        /// The prompt tokens to reserve.
        public var tokens: Int
        /// Whether that is Omega's exact count (else a bound).
        public var exact: Bool
    }

    /// The ratio an uncalibrated model with an inexact count starts with.
    public var priorRatio = 1.5
    /// The overhead per message it starts with (a chat template's framing
    /// and default system prompt).
    public var priorOverhead = 32
    /// Backends that bill Omega's own count, so the count is the bill.
    public var countingBackends: Set<String> = ["simulate"]
    /// Where calibrations are kept between runs (nil: this process only).
    let ledger: (any LedgerStore)?
    /// Told when the ledger cannot store a calibration.
    var report: (String) -> Void

    private var table: [String: Calibration] = [:]
    private var loaded: Set<String> = []

    /// Bounds calibrated from replies, kept in `ledger` when there is one; `report` hears about a calibration that could not be stored.
    public init(ledger: (any LedgerStore)? = nil, report: @escaping (String) -> Void = { _ in }) {
        self.ledger = ledger
        self.report = report
    }

    private func key(_ backend: String, _ model: String) -> String { backend + "\u{1}" + model }

    /// The calibration in force, loaded from the ledger on first use.
    public func calibration(backend: String, model: String) -> Calibration? {
        let k = key(backend, model)
        if !loaded.contains(k) {
            loaded.insert(k)
            if let ledger, let stored = try? ledger.calibration(backend: backend, model: model) { table[k] = stored }
        }
        return table[k]
    }

    /// The reservation for `request`'s prompt on `backend`.
    public func bound(_ request: InferenceRequest, backend: String) -> Bound {
        let c = request.promptTokens.tokens
        let exactPrior = request.promptTokens.exact || countingBackends.contains(backend)
        guard let cal = calibration(backend: backend, model: request.model) else {
            if exactPrior { return Bound(tokens: c, exact: true) }
            return Bound(tokens: InputBounds.scaled(c, priorRatio).adding(priorOverhead, times: request.messages.count), exact: false)
        }
        let (ratio, overhead) = terms(cal, exactPrior: exactPrior)
        let tokens = InputBounds.scaled(c, ratio).adding(overhead, times: request.messages.count)
        return Bound(tokens: tokens, exact: exactPrior && tokens == c)
    }

    /// The ratio and per-message overhead a calibration gives.
    private func terms(_ cal: Calibration, exactPrior: Bool) -> (Double, Int) {
        let prior = exactPrior ? 0 : priorOverhead
        let overhead = max(0, max(min(prior, cal.residual), cal.ratioResidual))
        return (cal.ratio, overhead)
    }

    /// Learns from a reply that reported `billed` input tokens. Returns true
    /// when the bound the request was reserved with was too small.
    @discardableResult
    public func observe(_ request: InferenceRequest, backend: String, billed: Int) -> Bool {
        let c = request.promptTokens.tokens
        let m = max(1, request.messages.count)
        let exactPrior = request.promptTokens.exact || countingBackends.contains(backend)
        let before = bound(request, backend: backend)
        var cal = calibration(backend: backend, model: request.model)
            ?? Calibration(ratio: exactPrior ? 1 : priorRatio, residual: Int.min / 4, ratioResidual: Int.min / 4, observations: 0)
        let old = cal
        if c >= 200, Double(billed) / Double(c) > cal.ratio {
            cal.ratio = Double(billed) / Double(c)
        }
        cal.residual = max(cal.residual, InputBounds.perMessage(billed - c, m))
        let scaled = InputBounds.scaled(c, cal.ratio)
        cal.ratioResidual = max(cal.ratioResidual, InputBounds.perMessage(billed - scaled, m))
        cal.observations += 1
        table[key(backend, request.model)] = cal
        // Store when the bound moved (not for every call: the count alone is not worth a write).
        if cal.ratio != old.ratio || cal.residual != old.residual || cal.ratioResidual != old.ratioResidual
            || old.observations == 0 {
            do { try ledger?.saveCalibration(cal, backend: backend, model: request.model, at: Date()) } catch {
                report("the ledger could not store the calibration of \(request.model) on \(backend): \(error)")
            }
        }
        return billed > before.tokens
    }

    /// A bound on the output of an answer whose usage was not reported and
    /// whose local count is not exact: the count scaled as the prompt's is,
    /// and never less than max-tokens when the answer was cut there.
    public func outputBound(counted: Int, request: InferenceRequest, backend: String, finishedByLength: Bool) -> Int {
        let ratio = calibration(backend: backend, model: request.model)?.ratio ?? priorRatio
        let scaled = InputBounds.scaled(counted, max(ratio, 1)) + 1
        return finishedByLength ? max(scaled, request.maxTokens) : scaled
    }

    static func scaled(_ c: Int, _ ratio: Double) -> Int {
        let v = (Double(c) * ratio).rounded(.up)
        return v < 9e15 ? Int(v) : Int.max / 4
    }

    static func perMessage(_ excess: Int, _ m: Int) -> Int {
        excess >= 0 ? (excess + m - 1) / m : -((-excess) / m)
    }
}

extension Int {
    /// `self + per × count`, saturating.
    func adding(_ per: Int, times count: Int) -> Int {
        let (p, o1) = per.multipliedReportingOverflow(by: Swift.max(1, count))
        let (s, o2) = addingReportingOverflow(p)
        return o1 || o2 ? Int.max / 4 : s
    }
}
