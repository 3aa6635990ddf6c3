package view

import "fyne.io/fyne/v2/lang"

// Texts of the Groups tab; see strings.go.

func txtTabGroups() string { return lang.X("tab.groups", "Groups") }

func txtGroupNew() string            { return lang.X("groups.new", "New group") }
func txtGroupNewPlaceholder() string { return lang.X("groups.newPlaceholder", "Name, e.g. Cardiology") }
func txtGroupCreate() string         { return lang.X("groups.create", "Create") }
func txtGroupMakeDefault() string    { return lang.X("groups.makeDefault", "Make default") }
func txtGroupDelete() string         { return lang.X("groups.delete", "Delete group…") }
func txtGroupDefault() string        { return lang.X("groups.default", "Default") }
func txtGroupDefaultKept() string {
	return lang.X("groups.defaultKept", "The default group cannot be deleted")
}
func txtSelectGroup() string {
	return lang.X("groups.select", "Select a group to rename it, make it the default or delete it. Tablets see the appointments of their group.")
}
func txtGroupFacts(tablets, open int) string {
	return lang.X("groups.facts", "Tablets: {{.Tablets}} · open appointments: {{.Open}}",
		map[string]any{"Tablets": tablets, "Open": open})
}
func txtGroupMappingTitle() string { return lang.X("groups.mappingTitle", "Orders from the EHR") }
func txtGroupMapped(codes string) string {
	return lang.X("groups.mapped", "Orders with these EHR codes land here: {{.Codes}}.", map[string]any{"Codes": codes})
}
func txtGroupMappedDefault() string {
	return lang.X("groups.mappedDefault", "Every order the connection settings do not send to another group lands here.")
}
func txtGroupMappedNone() string {
	return lang.X("groups.mappedNone",
		"No EHR code is sent to this group yet: orders land here only once the connection's group map names it (Settings).")
}
func txtGroupCreated(name string) string {
	return lang.X("groups.created", "Group {{.Name}} was created.", map[string]any{"Name": name})
}
func txtGroupRenamed(name string) string {
	return lang.X("groups.renamed", "The group is now called {{.Name}}.", map[string]any{"Name": name})
}
func txtGroupIsDefault(name string) string {
	return lang.X("groups.isDefault", "{{.Name}} is now the default group.", map[string]any{"Name": name})
}
func txtGroupInUse(tablets, open int) string {
	return lang.X("groups.inUse",
		"This group still has tablets ({{.Tablets}}) or open appointments ({{.Open}}). Move its tablets to another group (Tablets tab) and wait until its appointments are measured or delete them (Worklist tab), then delete the group.",
		map[string]any{"Tablets": tablets, "Open": open})
}
func txtGroupInUseNow() string {
	return lang.X("groups.inUseNow",
		"The group got a tablet or an appointment just now. Move it to another group first, then delete the group.")
}
func txtGroupDeleteTitle() string { return lang.X("groups.deleteTitle", "Delete this group?") }
func txtGroupDeleteText(name string) string {
	return lang.X("groups.deleteText", "{{.Name}} has no tablets and no open appointments. It is removed for good.",
		map[string]any{"Name": name})
}
func txtGroupDeleteConfirm() string { return lang.X("groups.deleteConfirm", "Delete") }
func txtGroupDeleted(name string) string {
	return lang.X("groups.deleted", "Group {{.Name}} was deleted.", map[string]any{"Name": name})
}
