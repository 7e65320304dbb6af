import Foundation
import OmegaCore

/// Ollama's native `/api/chat` (`OLLAMA_HOST`, default 127.0.0.1:11434).
/// Usage: `prompt_eval_count` (input) and `eval_count` (output), in the
/// final object (`done: true`) when streaming.
public struct OllamaBackend: ModelBackend {
    public let name = "ollama"
    /// The server's address (`$OLLAMA_HOST`, default `http://127.0.0.1:11434`).
    public var baseURL: String
    /// Stream answers unless a call says otherwise.
    public var stream: Bool
    let tokens: TokenCounter
    var transport = HTTPTransport()

    /// `host` as Ollama reads `OLLAMA_HOST`: `host:port`, or a full URL.
    public init(host: String, stream: Bool = false, tokens: TokenCounter = TokenCounter()) {
        var h = host.isEmpty ? "127.0.0.1:11434" : host
        if !h.hasPrefix("http://") && !h.hasPrefix("https://") { h = "http://" + h }
        if h.hasSuffix("/") { h.removeLast() }
        baseURL = h
        self.stream = stream
        self.tokens = tokens
    }

    /// The request body as /api/chat wants it.
    func body(_ r: InferenceRequest, stream: Bool) -> Data {
        let body = OllamaWire.Request(
            model: r.model, stream: stream,
            options: .init(numPredict: r.maxTokens, temperature: r.temperature, stop: r.stop.isEmpty ? nil : r.stop),
            messages: r.messages.map { .init(role: $0.role, content: $0.content) })
        return WireBody(fields: body, extra: r.providerFields).data()
    }

    public func infer(_ request: InferenceRequest) async throws -> InferenceResult {
        let started = Date()
        let url = baseURL + "/api/chat"
        let wantsStream = request.stream ?? stream
        var reply = Reply()
        if wantsStream {
            do {
                try await transport.postStreaming(url, headers: [], body: body(request, stream: true),
                                                  timeout: request.timeout, describeError: { _, d in JSON.errorText(d) }) { line in
                    try reply.feed(line)
                }
            } catch var e as BackendError where e.kind == .cutStream {
                e.billed = counted(request, reply.text)
                throw e
            }
            guard reply.final != nil else {
                var e = BackendError(.cutStream, "the stream ended before done")
                e.billed = counted(request, reply.text)
                throw e
            }
        } else {
            let data = try await transport.postJSON(url, headers: [], body: body(request, stream: false),
                                                    timeout: request.timeout) { _, d in JSON.errorText(d) }
            reply = try Reply(decoding: data)
        }
        return result(reply, request, started: started)
    }

    /// A chat answer as it arrives: a whole body, or one JSON object per line
    /// (no network: also what the fuzzer feeds).
    struct Reply {
        var text = ""
        var final: OllamaWire.Reply?

        init() {}

        init(decoding data: Data) throws {
            guard let reply = decodeWire(OllamaWire.Reply.self, data), let message = reply.message else {
                throw BackendError(.badResponse, "the server's answer is not a chat message: \(JSON.errorText(data))")
            }
            text = message.content ?? ""
            final = reply
        }

        mutating func feed(_ line: String) throws {
            guard let chunk = decodeWire(OllamaWire.Reply.self, Data(line.utf8)) else { return }
            if let e = chunk.error { throw BackendError(.server, "error in the stream: \(e)") }
            if let c = chunk.message?.content { text += c }
            if chunk.done == true { final = chunk }
        }
    }

    /// The result of a complete reply.
    func result(_ reply: Reply, _ request: InferenceRequest, started: Date) -> InferenceResult {
        let final = reply.final
        let input = final?.promptEvalCount, output = final?.evalCount
        let usage = input != nil && output != nil
            ? TokenUsage(inputTokens: input ?? 0, outputTokens: output ?? 0) : counted(request, reply.text)
        let finish = final?.doneReason.map { $0 == "length" ? "length" : "stop" } ?? "stop"
        return InferenceResult(text: reply.text, model: final?.model ?? request.model, finishReason: finish,
                               usage: usage, usageSource: input != nil && output != nil ? .reported : .estimated,
                               latency: Date().timeIntervalSince(started), backend: name, requestID: request.id)
    }

    func counted(_ request: InferenceRequest, _ text: String) -> TokenUsage {
        TokenUsage(inputTokens: request.promptTokens.tokens, outputTokens: tokens.count(text, model: request.model).tokens)
    }
}

/// Builds the HTTP backends from environment and configuration.
enum HTTPBackends {
    static func make(_ name: String, configuration: Configuration, models: ModelSettings,
                     environment: [String: String]) throws -> ModelBackend {
        func setting(_ key: String, env: String? = nil) throws -> String? {
            if let e = env, let v = environment[e], !v.isEmpty { return v }
            return try configuration.string("\(name).\(key)")
        }
        let stream = try configuration.bool("\(name).stream") ?? false
        // Requests kept open to the server at once; more calls wait their turn.
        let connectionsKey = "\(name).max-connections"
        var connections = HTTPTransport.defaultMaxConnections
        if let n = try configuration.positiveInteger(connectionsKey) {
            guard n <= HTTPTransport.connectionLimit else {
                throw ConfigError(place: configuration.lookup(connectionsKey)?.place ?? "config", key: connectionsKey,
                                  message: "must be at most \(HTTPTransport.connectionLimit), got \(n)")
            }
            connections = n
        }
        func limited(_ t: inout HTTPTransport) {
            t.maxConnections = connections
            t.maxConnectionsKey = "[\(name)] max-connections (now \(connections))"
        }
        switch name {
        case "openai":
            var b = OpenAIBackend(baseURL: try setting("base-url", env: "OPENAI_BASE_URL") ?? "https://api.openai.com/v1",
                                  apiKey: environment["OPENAI_API_KEY"], stream: stream,
                                  tokens: models.tokens)
            limited(&b.transport)
            return b
        case "anthropic":
            var b = AnthropicBackend(baseURL: try setting("base-url", env: "ANTHROPIC_BASE_URL") ?? "https://api.anthropic.com",
                                     apiKey: environment["ANTHROPIC_API_KEY"], stream: stream,
                                     tokens: models.tokens)
            limited(&b.transport)
            return b
        case "ollama":
            var b = OllamaBackend(host: try setting("host", env: "OLLAMA_HOST") ?? "127.0.0.1:11434", stream: stream,
                                  tokens: models.tokens)
            limited(&b.transport)
            return b
        default:
            throw ConfigError(place: "backend", message: "unknown backend '\(name)'")
        }
    }
}
