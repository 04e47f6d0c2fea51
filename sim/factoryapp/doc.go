// Package factoryapp is the factory firmware a virtual board runs when it
// boots its flashed app: it implements board.App.
//
// One boot, in order:
//
//  1. Print app_main's first line; with Config.StartupLog, first ESP-IDF's
//     startup log (cpu_start, app_init with the app descriptor read from
//     the first app partition, heap_init, spi_flash, main_task), which
//     sim/board otherwise prints itself.
//  2. Find the factory partition ("fctry", else the app's "nvs") through
//     the partition table at 0x8000 and read the factory data with
//     firmware/nvs: SN, template, endpoint, claim certificate and key, and,
//     once provisioned, the device certificate, key and thing name. When
//     NVS holds no SN, the factory files of firmware/spiffs in the first
//     SPIFFS partition are read instead (the device credentials still go to
//     NVS, and the claim files are deleted). A board that holds device
//     credentials but still a claim (reset between the two writes) erases
//     the claim now.
//  3. Speak firmware/selftest: hello (repeated each HelloInterval until the
//     station speaks), apply the station's time and report the clock, wait
//     for start or retest.
//  4. Run the self tests (values drawn from seeded distributions; the flash
//     size measured). A failed test ends the boot with a failing verdict and
//     no provisioning.
//  5. Provision by claim with a CSR: a fresh P-256 key, a CSR whose subject
//     is the SN, MQTT over mutual TLS (paho) to the endpoint with the claim
//     certificate, verifying the server with the board's own clock against
//     the trust anchor built into the app (Config.RootCAPEM, or an NVS
//     string "root_ca"); CreateCertificateFromCsr, then RegisterThing with
//     SerialNumber, MAC, ManufacturingDate, ClaimCertificateSerial,
//     ChipModel and FirmwareVersion; store device_cert, device_key and
//     thing_name in NVS in place and erase claim_cert and claim_key. Each
//     step is reported; a rejection carries the cloud's triple.
//  6. Send the verdict and keep running until the board resets.
//
// A board whose NVS already holds a device certificate boots in retest mode:
// hello says so with its thing name and certificate fingerprint, the cert is
// sent, the tests run, nothing is provisioned. The station's retest does the
// same on any board.
//
// Faults (Config.Faults, ParseFaults) make one board misbehave the way real
// ones do: an unsynced clock, no network, a test out of limits, a reboot
// after a provisioning step, a constant-seeded RNG that repeats another
// board's key, a debug dump of the private key on the console. Cloud-side
// failures (expired or unregistered claim, missing or inactive template,
// throttling, a refusing allowlist, the endpoint down) are set up at
// sim/cloud or in the factory data.
package factoryapp
