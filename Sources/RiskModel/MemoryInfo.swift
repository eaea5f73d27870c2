import Foundation

/// The memory this process may still use, for checking a run's estimate before the compute.
public enum MemoryInfo {
    /// Bytes available: the kernel's `MemAvailable` (Linux), lowered to what the cgroup limit leaves when the
    /// process runs in a container with a memory limit (`memory.max` − `memory.current`). Nil when unknown (other
    /// systems): the checks are then skipped.
    public static func availableBytes() -> Int64? {
        let system = meminfoAvailable()
        let cgroup = cgroupRemaining()
        switch (system, cgroup) {
        case let (s?, c?): return min(s, c)
        case let (s?, nil): return s
        case let (nil, c?): return c
        case (nil, nil): return nil
        }
    }

    /// `MemAvailable` of /proc/meminfo, in bytes.
    static func meminfoAvailable() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let kib = Int64(fields[1]) else { return nil }
            return kib * 1024
        }
        return nil
    }

    /// Bytes left under the cgroup v2 limit, nil without a limit.
    static func cgroupRemaining() -> Int64? {
        func read(_ name: String) -> Int64? {
            guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/" + name, encoding: .utf8) else { return nil }
            return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))  // "max" → nil
        }
        guard let limit = read("memory.max") else { return nil }
        return max(0, limit - (read("memory.current") ?? 0))
    }

    /// A byte count for messages, in binary units: `1.5 GiB`, `12.0 MiB`, `800 bytes`.
    public static func describe(_ bytes: Int64) -> String {
        let units: [(Int64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (scale, name) in units where bytes >= scale {
            return String(format: "%.1f %@", Double(bytes) / Double(scale), name)
        }
        return "\(bytes) bytes"
    }
}
