/// The version of Omega.
public enum OmegaVersion {
    /// The version, as `omega --version` prints it.
    public static let string = "0.1.0"
}
