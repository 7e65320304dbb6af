import Foundation

/// The process's environment, read from `environ` directly.
///
/// Foundation's `ProcessInfo.environment` builds the same dictionary by
/// splitting each entry Character by Character, and a start asked for it
/// seven times: 0.46 ms of a 9 ms `omega -e 1` (issue 18). Read afresh on
/// each call, as `ProcessInfo` does, so a `setenv` is seen.
public enum ProcessEnvironment {
    /// Every variable, by name (the first of a name that is set twice).
    public static func variables() -> [String: String] {
        var result: [String: String] = [:]
        // `environ` is NULL after a clearenv(); Swift imports it as never nil.
        guard var entry = unsafeBitCast(environ, to: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self) else { return result }
        while let pointer = entry.pointee {
            let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self),
                                            count: strlen(pointer))
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(decoding: bytes[..<eq], as: UTF8.self)
                if result[name] == nil {
                    result[name] = String(decoding: bytes[(eq + 1)...], as: UTF8.self)
                }
            }
            entry += 1
        }
        return result
    }

    /// One variable, nil when unset.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The user's home directory: `$HOME` (as the XDG directories are
    /// defined), else the password database's.
    public static func home(_ environment: [String: String]) -> String {
        if let h = environment["HOME"], !h.isEmpty { return h }
        return NSHomeDirectory()
    }
}
