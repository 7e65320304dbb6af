import Foundation
import OmegaCore

/// What `scripts/fuzz` feeds random and mutated input to (one libFuzzer
/// entry point in `Sources/OmegaFuzz`, the target chosen by name). Each must
/// end with a value or an error for every input: a crash, a trap or a hang
/// is a bug.
public enum FuzzTargets {
    /// `reader`, `eval`, `toml`, `yaml`, `replies`.
    public static let names = ["reader", "eval", "toml", "yaml", "replies"]

    /// Runs target `name` on `data`; errors are the expected outcome of bad input.
    public static func run(_ name: String, _ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        switch name {
        case "reader": reader(text)
        case "eval": eval(text)
        case "toml": configuration(text, file: "fuzz.toml")
        case "yaml": configuration(text, file: "fuzz.yaml")
        case "replies": replies(data)
        default: break
        }
    }

    // MARK: Scheme

    private final class Shared: @unchecked Sendable {
        var interpreter: Interpreter?
        var runs = 0
    }
    private static let shared = Shared()

    static func reader(_ text: String) {
        guard let interp = sharedInterpreter() else { return }
        var reader = Reader(text, fileID: interp.sourceFiles.id(for: "fuzz"), interp: interp)
        while let datum = try? reader.read() { _ = interp.writeString(datum) }
    }

    static func eval(_ text: String) {
        guard let interp = sharedInterpreter() else { return }
        // The time limit holds per top-level form: an input of many forms
        // is also stopped after 2 s in all, well inside libFuzzer's timeout.
        let end = ContinuousClock.now + .seconds(2)
        _ = try? interp.evaluate(text, sourceName: "fuzz") { _ in
            if ContinuousClock.now > end { throw InputTooSlow() }
        }
        interp.meter.clearEmergency()
    }

    /// Ends a fuzz input that used up its time.
    private struct InputTooSlow: Error {}

    /// One interpreter for many inputs (made afresh now and then): limited in
    /// steps, memory and time, and allowed nothing outside itself.
    private static func sharedInterpreter() -> Interpreter? {
        shared.runs += 1
        if shared.interpreter == nil || shared.runs % 5_000 == 0 {
            var options = Interpreter.Options()
            options.stepLimit = 200_000
            options.memoryLimit = 64 << 20
            options.stackLimit = 1 << 20
            options.timeLimit = 1
            options.capabilities = []
            options.output = .callback({ _ in })
            var models = ModelLibrary()
            models.meter = Meter(report: { _ in })
            shared.interpreter = try? Interpreter(options: options, models: models)
        }
        return shared.interpreter
    }

    // MARK: Configuration

    static func configuration(_ text: String, file: String) {
        guard let c = try? Configuration(text: text, file: URL(fileURLWithPath: "/nonexistent-fuzz/" + file)) else { return }
        _ = try? c.budgetPolicy()
        _ = try? c.effectSettings()
        _ = try? ModelSettings(configuration: c)
        _ = try? c.memoryLimit()
        _ = try? c.timeLimit()
        _ = try? c.capabilities()
        _ = try? c.ledgerPath()
    }

    // MARK: Server replies

    /// The first byte picks the decoder; the rest is the body (or stream).
    /// The result is then charged by a meter, as a real reply is.
    static func replies(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let body = Data(data.dropFirst())
        let lines = String(decoding: body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var request = InferenceRequest(prompt: .text("fuzz"), model: "gpt-4o", maxTokens: 100,
                                       promptTokens: TokenCount(tokens: 5, exact: true, encoding: nil, note: nil))
        let started = Date()
        var result: InferenceResult?
        switch selector % 6 {
        case 0:
            result = try? OpenAIBackend(baseURL: "http://fuzz", apiKey: nil).decode(body, request, started: started)
        case 1:
            let b = OpenAIBackend(baseURL: "http://fuzz", apiKey: nil)
            var state = OpenAIBackend.StreamState()
            if (try? lines.forEach { try state.feed($0) }) != nil { result = try? b.finishStream(state, request, started: started) }
        case 2:
            let b = AnthropicBackend(baseURL: "http://fuzz", apiKey: "fuzz-key")
            if let r = try? AnthropicBackend.Reply(decoding: body) { result = b.result(r, request, started: started) }
        case 3:
            let b = AnthropicBackend(baseURL: "http://fuzz", apiKey: "fuzz-key")
            var reply = AnthropicBackend.Reply()
            if (try? lines.forEach { try reply.feed($0) }) != nil { result = b.result(reply, request, started: started) }
        case 4:
            let b = OllamaBackend(host: "http://fuzz")
            if let r = try? OllamaBackend.Reply(decoding: body) { result = b.result(r, request, started: started) }
        default:
            let b = OllamaBackend(host: "http://fuzz")
            var reply = OllamaBackend.Reply()
            if (try? lines.forEach { try reply.feed($0) }) != nil { result = b.result(reply, request, started: started) }
        }
        guard let result else { return }
        var policy = BudgetPolicy()
        policy.run = [.tokens: 1_000, .usd: 1_000_000_000_000]
        let meter = Meter(policy: policy, report: { _ in })
        guard case .send(let reservation)? = try? meter.admit(&request, backend: "openai") else { return }
        _ = meter.settle(request, reservation: reservation, outcome: .success(result))
    }
}
