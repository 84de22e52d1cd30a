import Foundation

/// Public credential material for seeding moto: an `ssh-rsa` public key and a self-signed PEM
/// certificate (moto parses certificates, so a made-up string will not do). Each is made once
/// per test process by `ssh-keygen` / `openssl` when installed (the private keys are thrown away
/// with their temporary directory), else a fixed one is used. Neither is a secret.
public enum CredentialMaterial {
    public static let sshPublicKey: String =
        generated(
            "ssh-keygen -q -t rsa -b 2048 -N '' -C console-access-test -f key", output: "key.pub",
            prefix: "ssh-rsa ") ?? fixedSSHPublicKey

    public static let certificatePEM: String =
        generated(
            "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=console-access-test -keyout key -out cert.pem",
            output: "cert.pem", prefix: "-----BEGIN CERTIFICATE-----") ?? fixedCertificatePEM

    /// Runs `command` in a fresh temporary directory and returns the file `output` it wrote, or nil
    /// when the tool is missing or failed.
    private static func generated(_ command: String, output: String, prefix: String) -> String? {
        guard let directory = try? TemporaryDirectory() else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "cd '\(directory.path)' && \(command)"]
        // No pipes: a pipe's write end can be inherited by another child started meanwhile.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let text = try? String(contentsOfFile: directory.path + "/" + output, encoding: .utf8),
            text.hasPrefix(prefix)
        else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let fixedSSHPublicKey =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCKGGxFHsgd3auQEVIY9wSOO8mI1ONiW+DfYiXKva9HSgEn2fJnbtp3rh1NxeNGFxkmpHma1akQayZfJWF/ia9adIcHLSXfzz1CpyEnVZeJlzyu38eJb8hNNSqzsuWRs80dOXUM3NGgjP/lIiUzjyI9LiIDMCmLa8dnzdoYR723YuYi9BuHkoKOpIIaHviY/qCGLK/lktopuYBrwjvNYD6b0mVS4eim1z5M+ei5QcrZasipNtMojNZwlnIWTgPFCFMDkFZRHwBeu+U9MCO3rGf5ThEHKjBetO2NhD24dEpUqr+nUtEyvqryBRHkjG/hMwWuRqQPB9pWQZGYBDpay7W7 console-access-test"

    static let fixedCertificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIDHTCCAgWgAwIBAgIUNjcDjn9ser8x2PAp6EaUfWwjRM8wDQYJKoZIhvcNAQEL
        BQAwHjEcMBoGA1UEAwwTY29uc29sZS1hY2Nlc3MtdGVzdDAeFw0yNjEyMDYyMTAz
        MzdaFw0zNjEyMDMyMTAzMzdaMB4xHDAaBgNVBAMME2NvbnNvbGUtYWNjZXNzLXRl
        c3QwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDg9LAtq2F+DFDHkYi0
        ykM9W0XDnEzkT6znlkKDLfc/EosVdayNNK4lCFWX8VFVSUxn5LXORSLUpCCXRk+1
        CGVNvQyXrPb6EOFUOpEGxohxIBMeIof8p1gy8j9a3pt28I0ji9UxU7Q3LJGPc5NJ
        y9LwbXi4fBbSkqw8R/5h2bbKrmCXxStWrrLrTpI4HNCgGE42c5IOx81bsQDuC35U
        n81gWBQzOVChutrU2LEAdGqPy2dHSTQJ2lJ7su5yGqpCwYxTo1W+ah2HzPbQL1Lo
        5wOy3/G4fzqILvu/6421gEm3bWIPdSwK2SnCp11MiieGLhMN2YbPkU6b0zBZiWon
        CFyhAgMBAAGjUzBRMB0GA1UdDgQWBBRNVsisGwaymwrJ/Vk4FxOdUBkaPzAfBgNV
        HSMEGDAWgBRNVsisGwaymwrJ/Vk4FxOdUBkaPzAPBgNVHRMBAf8EBTADAQH/MA0G
        CSqGSIb3DQEBCwUAA4IBAQDS7ggEzapXy2e/phEY5h66nhAI2DDGudUm6POcWN4x
        dzut489cpk3J8Ac5jJpnPy3a9AIhQelqJpuRDYIkvO5vhxRO3egWh+FmVnCkOKp9
        KqC8UfNg8EecaK6pBfqjeNs5EwceDDpTPutN8vOVR6vdBH/1ordZnTZ0Cq/siZFu
        RRXr0x4Yy1oJwFYaIIwDv06orFGMn1CfetgUk7z48zsXXRltjWi5tWHVR12A7lcd
        DUL00ffJ/NRb2ILLIGBQAzDI3MQhY7o6RRZJlfsdKH97XAwyV2AHVfzmxielEUN3
        SAbY8/gqGJr1bs+zwLbTSrW6ZvWJxi8tSL5CoFd2khEq
        -----END CERTIFICATE-----
        """
}
