package setup

import (
	"embed"
	"fmt"

	"fyne.io/fyne/v2/lang"

	"github.com/mesi/mconnect/connectors/catalogue"
	"github.com/mesi/mconnect/connectors/probe"
)

// Every text of these screens goes through lang.X with an English
// default; translations/en.json repeats the defaults (a test keeps both
// in step, `go test -run TestEnglishTexts -update` rewrites it).

//go:embed translations
var translationsFS embed.FS

// Register adds this package's translations to Fyne's lang (once per
// process, before the screens are built).
func Register() error {
	if err := lang.AddTranslationsFS(translationsFS, "translations"); err != nil {
		return fmt.Errorf("setup: load translations: %w", err)
	}
	return nil
}

func txtDetails() string { return lang.X("setup.details", "Details") }
func txtSecretStored() string {
	return lang.X("setup.secretStored", "Stored in the keyring (type to replace)")
}
func txtChoose() string { return lang.X("setup.choose", "Choose…") }
func txtCreate() string { return lang.X("setup.create", "Create") }
func txtFolderCreated(dir string) string {
	return lang.X("setup.folderCreated", "Folder {{.Folder}} created.", map[string]any{"Folder": dir})
}
func txtFolderNotCreated(dir string) string {
	return lang.X("setup.folderNotCreated", "Folder {{.Folder}} could not be created:", map[string]any{"Folder": dir})
}

// Wizard navigation and steps.
func txtBack() string   { return lang.X("wizard.back", "Back") }
func txtNext() string   { return lang.X("wizard.next", "Next") }
func txtCancel() string { return lang.X("wizard.cancel", "Cancel") }
func txtSave() string   { return lang.X("wizard.save", "Save") }
func txtClose() string  { return lang.X("wizard.close", "Close") }
func txtPair() string   { return lang.X("wizard.pair", "Pair your first tablet") }

func txtStepTitle(step int) string {
	switch step {
	case stepLanguage:
		return lang.X("wizard.step.language", "Language")
	case stepEHR:
		return lang.X("wizard.step.ehr", "Which EHR does the clinic use?")
	case stepFields:
		return lang.X("wizard.step.fields", "Connection to the EHR")
	case stepTablets:
		return lang.X("wizard.step.tablets", "Tablets")
	case stepChecks:
		return lang.X("wizard.step.checks", "Checks")
	case stepAutostart:
		return lang.X("wizard.step.autostart", "Start with the computer")
	case stepSummary:
		return lang.X("wizard.step.summary", "Summary")
	default:
		return lang.X("wizard.step.pair", "Done")
	}
}

func txtStepOf(n, of int) string {
	return lang.X("wizard.stepOf", "Step {{.N}} of {{.Of}}", map[string]any{"N": n, "Of": of})
}

func txtLanguagePrompt() string {
	return lang.X("wizard.language.prompt", "Choose the language of mCONNECT Hub.")
}
func txtEHRPrompt() string {
	return lang.X("wizard.ehr.prompt", "mCONNECT Hub takes orders from the EHR and sends results back. Choose the clinic's EHR.")
}
func txtNotBuilt() string { return lang.X("wizard.ehr.notBuilt", "not available in this version") }

func txtInbound(in catalogue.Inbound) string {
	switch in {
	case catalogue.InMLLP:
		return lang.X("inbound.mllp", "the EHR sends orders over the network (HL7 MLLP), results go back the same way")
	case catalogue.InHL7Files:
		return lang.X("inbound.hl7files", "the EHR writes order files into a folder, results go to its web address")
	case catalogue.InGDTFiles:
		return lang.X("inbound.gdtfiles", "order and result files in shared folders (or uploaded over FTP)")
	case catalogue.InPull:
		return lang.X("inbound.pull", "the hub fetches appointments from the EHR's cloud service")
	case catalogue.InPushedJSON:
		return lang.X("inbound.pushed", "the EHR's cloud service sends appointments to the hub")
	}
	return string(in)
}

func txtFieldsPrompt(ehr string) string {
	return lang.X("wizard.fields.prompt", "What the hub needs to know to work with {{.EHR}}.", map[string]any{"EHR": ehr})
}
func txtTabletsPrompt() string {
	return lang.X("wizard.tablets.prompt", "How tablets reach this hub on the clinic's network.")
}
func txtFingerprint() string {
	return lang.X("wizard.tablets.fingerprint", "Certificate fingerprint (tablets check it when pairing)")
}
func txtFingerprintUnknown() string {
	return lang.X("wizard.tablets.fingerprintUnknown", "Made when the hub starts for the first time.")
}
func txtChecksPrompt() string {
	return lang.X("wizard.checks.prompt", "The hub checks that it can work with these settings.")
}
func txtRunChecks() string { return lang.X("wizard.checks.run", "Check again") }
func txtChecksRunning() string {
	return lang.X("wizard.checks.running", "Checking…")
}
func txtOverride() string { return lang.X("wizard.checks.override", "Continue anyway") }
func txtOverridden() string {
	return lang.X("wizard.checks.overridden", "You chose to continue without this check.")
}
func txtOverrideTitle() string {
	return lang.X("wizard.checks.overrideTitle", "Continue without the EHR?")
}
func txtOverrideText() string {
	return lang.X("wizard.checks.overrideText", "The EHR did not answer. It may simply be switched off; the hub keeps trying once it runs. Continue with these settings?")
}
func txtAutostartPrompt() string {
	return lang.X("wizard.autostart.prompt", "mCONNECT Hub should run whenever the computer is on, so that orders and results are never left waiting.")
}
func txtAutostartToggle() string {
	return lang.X("setup.autostart", "Start mCONNECT Hub when I sign in to this computer")
}
func txtAutostartMissing() string {
	return lang.X("setup.autostartMissing", "Starting with the computer cannot be set up from here on this system.")
}
func txtSummaryPrompt() string {
	return lang.X("wizard.summary.prompt", "Check the settings, then save.")
}
func txtSummaryEHR(name, format string) string {
	return lang.X("wizard.summary.ehr", "EHR: {{.Name}} ({{.Format}})", map[string]any{"Name": name, "Format": format})
}
func txtSecretNew() string {
	return lang.X("wizard.summary.secretNew", "stored in the keyring when you save")
}
func txtSecretKept() string { return lang.X("wizard.summary.secretKept", "kept as stored") }
func txtOn() string         { return lang.X("setup.on", "on") }
func txtOff() string        { return lang.X("setup.off", "off") }
func txtChecksPassed() string {
	return lang.X("wizard.summary.checksPassed", "All checks passed.")
}
func txtChecksNeeded() string {
	return lang.X("wizard.summary.checksNeeded", "Some checks have not passed yet: go back to Checks.")
}
func txtChecksStale() string {
	return lang.X("wizard.summary.checksStale", "Settings changed after the checks: go back to Checks and check again.")
}
func txtProblemsLeft() string {
	return lang.X("wizard.summary.problems", "Some settings are not valid yet:")
}
func txtSaving() string { return lang.X("setup.saving", "Saving…") }
func txtSavedWizard() string {
	return lang.X("wizard.saved", "The settings are saved. mCONNECT Hub now works with them.")
}
func txtPairPrompt() string {
	return lang.X("wizard.pair.prompt", "Next, pair a tablet: it scans a code shown on this screen.")
}
func txtSecretNotStored() string {
	return lang.X("setup.secretNotStored", "The password could not be stored in the keyring. Nothing was saved.")
}
func txtNotWritten() string {
	return lang.X("setup.notWritten", "The settings could not be saved. The previous settings are unchanged.")
}
func txtInvalid() string {
	return lang.X("setup.invalid", "Some settings are not valid; see the messages next to them. Nothing was saved.")
}
func txtAutostartFailed() string {
	return lang.X("setup.autostartFailed", "The settings are saved, but starting with the computer could not be changed.")
}

// Settings.
func txtSettingsTitle() string { return lang.X("settings.title", "Settings") }
func txtLanguage() string      { return lang.X("settings.language", "Language") }
func txtSettingsSave() string  { return lang.X("settings.save", "Save and restart the hub") }
func txtDiscard() string       { return lang.X("settings.discard", "Discard changes") }
func txtChangeEHR() string     { return lang.X("settings.changeEHR", "Change EHR connection…") }
func txtExportDiag() string    { return lang.X("settings.exportDiag", "Export diagnostics…") }
func txtPatientData() string {
	return lang.X("settings.patientData", "Include patient data (only when support asks for it)")
}
func txtDiagRunning() string {
	return lang.X("settings.diagRunning", "Writing the diagnostics file…")
}
func txtDiagDone(path string) string {
	return lang.X("settings.diagDone", "Diagnostics written to {{.Path}}.", map[string]any{"Path": path})
}
func txtDiagSectionOK(name string) string {
	return lang.X("settings.diagSectionOK", "{{.Name}}: included", map[string]any{"Name": name})
}
func txtDiagSectionLeft(name string) string {
	return lang.X("settings.diagSectionLeft", "{{.Name}}: left out", map[string]any{"Name": name})
}
func txtDiagFailed() string {
	return lang.X("settings.diagFailed", "The diagnostics file could not be written.")
}
func txtNoHub() string {
	return lang.X("settings.noHub", "mCONNECT Hub is not running, so its settings cannot be changed here.")
}
func txtLoadFailed() string {
	return lang.X("settings.loadFailed", "The settings could not be read.")
}
func txtSaved() string {
	return lang.X("settings.saved", "Saved. The hub restarted with the new settings.")
}
func txtNoHubAnswer() string {
	return lang.X("settings.noAnswer", "mCONNECT Hub did not answer.")
}
func txtAbout() string   { return lang.X("settings.about", "About this hub") }
func txtVersion() string { return lang.X("settings.version", "Version") }
func txtDataFolder() string {
	return lang.X("settings.dataFolder", "Data folder")
}
func txtConfigFile() string { return lang.X("settings.configFile", "Configuration file") }
func txtLAN() string        { return lang.X("settings.lan", "Address for tablets") }
func txtOther() string      { return lang.X("settings.otherProblems", "Other problems:") }

func txtSection(key string) string {
	switch key {
	case "hub":
		return lang.X("section.hub", "Hub")
	case "device":
		return lang.X("section.device", "Tablets")
	case "log":
		return lang.X("section.log", "Log")
	case "delivery":
		return lang.X("section.delivery", "Sending results")
	case "hl7":
		return lang.X("section.hl7", "HL7 connection")
	case "weda":
		return lang.X("section.weda", "WEDA connection")
	case "gdt":
		return lang.X("section.gdt", "GDT connection")
	case "halo":
		return lang.X("section.halo", "HALO Connect (Best Practice)")
	case "leyr":
		return lang.X("section.leyr", "Leyr connection")
	case "join":
		return lang.X("section.join", "Join connection")
	case "ziplanerx":
		return lang.X("section.ziplanerx", "ZipLaneRx connection")
	}
	return key
}

// Checks: what each tests, what was found, what to do.

func checkName(c Check) string {
	switch c.What {
	case checkPort:
		return lang.X("check.port.name", "Port {{.Addr}} is free", map[string]any{"Addr": c.Subject})
	case checkFTP:
		return lang.X("check.ftp.name", "FTP endpoint {{.Addr}} can be reached", map[string]any{"Addr": c.Subject})
	case checkFolder:
		return lang.X("check.folder.name", "Folder {{.Folder}} can be used", map[string]any{"Folder": c.Subject})
	case checkKeyring:
		return lang.X("check.keyring.name", "The keyring for passwords can be reached")
	default:
		return lang.X("check.ehr.name", "The EHR answers at {{.Addr}}", map[string]any{"Addr": c.Subject})
	}
}

// outcomeText says what a check found.
func outcomeText(what string, o Outcome) string {
	a := map[string]any{}
	for k, v := range o.Args {
		a[k] = v
	}
	switch o.Code {
	case codePortFree:
		return lang.X("check.portFree", "Port {{.port}} is free.", a)
	case codePortOurs:
		return lang.X("check.portOurs", "Port {{.port}} is used by this hub now; it keeps it.", a)
	case codePortInUse:
		return lang.X("check.portInUse", "Port {{.port}} is already used by another program.", a)
	case codePortBad:
		return lang.X("check.portBad", "{{.addr}} is not a port this computer can open.", a)
	case codeFolderOK:
		return lang.X("check.folderOK", "The folder can be written to.", a)
	case codeFolderNew:
		return lang.X("check.folderNew", "The folder does not exist yet; the hub creates it.", a)
	case codeFolderNoCreate:
		return lang.X("check.folderNoCreate", "The folder cannot be created.", a)
	case codeFolderNoWrite:
		return lang.X("check.folderNoWrite", "The folder cannot be written to.", a)
	case codeDiskFull:
		return lang.X("check.diskFull", "The disk is nearly full ({{.free}} MB free).", a)
	case codeKeyringOK:
		return lang.X("check.keyringOK", "The keyring can be reached.")
	case codeKeyringNo:
		return lang.X("check.keyringNo", "The keyring cannot be reached.")
	case codeReachableOnly:
		return lang.X("check.reachableOnly", "The EHR answers. The stored credential was not tried.", a)
	case probe.CodeReachable:
		return lang.X("check.reachable", "The EHR answers.", a)
	case probe.CodeRefused:
		return lang.X("check.refused", "Nothing answers at {{.addr}}.", a)
	case probe.CodeTimeout:
		return lang.X("check.timeout", "No answer in time.", a)
	case probe.CodeAuthRefused:
		return lang.X("check.authRefused", "The EHR refused the credentials.", a)
	case probe.CodeHTTPStatus:
		return lang.X("check.httpStatus", "The EHR answered with an error (status {{.status}}).", a)
	default:
		return lang.X("check.unreachable", "The EHR cannot be reached.", a)
	}
}

// outcomeFix says what to do about a failed check.
func outcomeFix(o Outcome) string {
	switch o.Code {
	case codePortInUse:
		return lang.X("fix.portInUse", "Choose another port, or close the program that uses it.")
	case codePortBad:
		return lang.X("fix.portBad", "Write the port like :2575 (or an address of this computer and a port).")
	case codeFolderNoCreate:
		return lang.X("fix.folderNoCreate", "Choose a folder on a drive this user may write to.")
	case codeFolderNoWrite:
		return lang.X("fix.folderNoWrite", "Give this user the right to write there, or choose another folder.")
	case codeDiskFull:
		return lang.X("fix.diskFull", "Free some space on that disk, or choose a folder on another one.")
	case codeKeyringNo:
		return lang.X("fix.keyringNo", "Sign in to the computer's desktop (the keyring opens with it) and check again.")
	case probe.CodeAuthRefused:
		return lang.X("fix.authRefused", "Type the credential again exactly as the EHR gave it.")
	case probe.CodeRefused, probe.CodeTimeout, probe.CodeUnreachable:
		return lang.X("fix.unreachable", "Check the address and that the EHR runs. If it is simply off, you may continue anyway.")
	case probe.CodeHTTPStatus:
		return lang.X("fix.httpStatus", "Check the address; if it is right, try again later.")
	}
	return ""
}

func txtMore() string { return lang.X("settings.more", "More settings") }
