import Foundation
import OmegaModels

/// The OpenAI chat-completions wire, as the service reads and answers it
/// (`POST /v1/chat/completions`).
enum ChatWire {
    /// What the service takes from a request body; the rest is refused
    /// where it would change what is reserved (`n` above 1) and otherwise
    /// not forwarded.
    struct Request {
        var model: String?
        var messages: [ChatMessage]
        var maxTokens: Int?
        var temperature: Double?
        var stop: [String]
        var stream: Bool
        var includeUsage: Bool
    }

    static func request(_ body: Data) throws -> Request {
        guard case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            throw ServiceError.invalidParams("the body is not a JSON object")
        }
        guard let m = o["messages"], case .array(let items) = m, !items.isEmpty else {
            throw ServiceError.invalidParams("messages is required: a non-empty array of {\"role\", \"content\"}")
        }
        let p = ServiceRPC.Params(values: o)
        var max = try p.count("max_completion_tokens", required: false)
        if max == nil { max = try p.count("max_tokens", required: false) }
        if let n = try p.count("n", required: false), n != 1 {
            throw ServiceError.invalidParams("n must be 1 (each choice is a call the budget would have to reserve)")
        }
        var temperature: Double?
        switch o["temperature"] {
        case .integer(let i)?: temperature = Double(i)
        case .number(let d)?: temperature = d
        case nil, .null?: break
        default: throw ServiceError.invalidParams("temperature must be a number")
        }
        var stop: [String] = []
        switch o["stop"] {
        case .string(let s)?: stop = [s]
        case .array(let a)?: stop = a.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        case nil, .null?: break
        default: throw ServiceError.invalidParams("stop must be a string or an array of strings")
        }
        var stream = false
        if case .bool(let b)? = o["stream"] { stream = b }
        var includeUsage = false
        if case .object(let so)? = o["stream_options"], case .bool(let b)? = so["include_usage"] { includeUsage = b }
        return Request(model: try p.string("model"), messages: try messages(m), maxTokens: max, temperature: temperature,
                       stop: stop, stream: stream, includeUsage: includeUsage)
    }

    /// Messages with text content (a string, or an array of `{"type": "text", "text": …}` parts).
    static func messages(_ v: JSONValue) throws -> [ChatMessage] {
        guard case .array(let items) = v else { throw ServiceError.invalidParams("messages must be an array") }
        return try items.enumerated().map { i, item in
            guard case .object(let m) = item, case .string(let role)? = m["role"] else {
                throw ServiceError.invalidParams("messages[\(i)] must be an object with a role")
            }
            var name: String?
            if case .string(let n)? = m["name"] { name = n }
            switch m["content"] {
            case .string(let s)?: return ChatMessage(role: role, content: s, name: name)
            case .null?, nil: return ChatMessage(role: role, content: "", name: name)
            case .array(let parts)?:
                var text = ""
                for part in parts {
                    guard case .object(let po) = part, case .string(let type)? = po["type"] else { continue }
                    guard type == "text", case .string(let t)? = po["text"] else {
                        throw ServiceError.invalidParams("messages[\(i)]: only text content is supported, not \(type)")
                    }
                    text += t
                }
                return ChatMessage(role: role, content: text, name: name)
            default:
                throw ServiceError.invalidParams("messages[\(i)].content must be a string or an array of text parts")
            }
        }
    }

    static func usage(_ u: TokenUsage) -> JSONValue {
        .object(["prompt_tokens": .integer(u.inputTokens), "completion_tokens": .integer(u.outputTokens),
                 "total_tokens": .integer(u.inputTokens + u.outputTokens)])
    }

    /// A `chat.completion` object.
    static func completion(_ r: InferenceResult, id: String, created: Int) -> JSONValue {
        .object([
            "id": .string(id), "object": .string("chat.completion"), "created": .integer(created), "model": .string(r.model),
            "choices": .array([.object(["index": .integer(0), "finish_reason": .string(r.finishReason),
                                        "message": .object(["role": .string("assistant"), "content": .string(r.text)])])]),
            "usage": usage(r.usage),
        ])
    }

    /// The `chat.completion.chunk` events of a streamed answer, each a
    /// `data:` line, ending with `[DONE]`.
    static func chunks(_ r: InferenceResult, id: String, created: Int, includeUsage: Bool) -> [String] {
        func chunk(_ delta: JSONValue, finish: JSONValue, usage: JSONValue? = nil, choices: Bool = true) -> String {
            var o: [String: JSONValue] = ["id": .string(id), "object": .string("chat.completion.chunk"),
                                          "created": .integer(created), "model": .string(r.model)]
            o["choices"] = choices ? .array([.object(["index": .integer(0), "delta": delta, "finish_reason": finish])]) : .array([])
            if let usage { o["usage"] = usage }
            return "data: " + ServiceJSON.string(.object(o)) + "\n\n"
        }
        var out = [chunk(.object(["role": .string("assistant"), "content": .string(r.text)]), finish: .null),
                   chunk(.object([:]), finish: .string(r.finishReason))]
        if includeUsage { out.append(chunk(.null, finish: .null, usage: usage(r.usage), choices: false)) }
        out.append("data: [DONE]\n\n")
        return out
    }

    /// An OpenAI-style error body.
    static func error(_ e: ServiceError) -> JSONValue {
        .object(["error": .object(["message": .string(e.message), "type": .string(e.kind), "param": .null,
                                   "code": .string(e.kind)])])
    }
}
