package deals

import "github.com/leadpipe/leadpipe/crm"

// Fields returns the standard deal fields, in the order of the deals table's columns, with
// stages as the options of the stage picklist (the account's: store.DealStages). The prospect
// link is not fed by a column: the writer resolves it from the three prospect fields after it,
// which are not stored.
func Fields(stages []string) []crm.Field {
	return []crm.Field{
		{Key: crm.FieldName, Label: "Name", Type: crm.Text, MaxLength: 255, Aliases: []string{"Deal", "Deal Name", "Opportunity", "Opportunity Name"}, Example: "Example Inc renewal"},
		{Key: crm.FieldAmount, Label: "Amount", Type: crm.Number, Aliases: []string{"Value", "Deal Value", "Deal Amount"}},
		{Key: crm.FieldStage, Label: "Stage", Type: crm.Picklist, Options: stages, Aliases: []string{"Deal Stage", "Sales Stage"}},
		{Key: crm.FieldCloseDate, Label: "Close Date", Type: crm.Date, Aliases: []string{"Expected Close Date", "Closing Date"}},
		{Key: crm.FieldOwner, Label: "Owner", Type: crm.User, Aliases: []string{"Deal Owner", "Assigned To"}},
		{Key: crm.FieldOrganization, Label: "Organization", Type: crm.Organization, MaxLength: 255, Aliases: []string{"Company", "Company Name", "Organisation", "Organization Name", "Account", "Account Name"}},
		{Key: crm.FieldProspect, Label: "Prospect", Type: crm.Prospect},
		{Key: crm.FieldProspectEmail, Label: "Prospect Email", Type: crm.Email, MaxLength: 254, Aliases: []string{"Contact Email"}},
		{Key: crm.FieldProspectFirstName, Label: "Prospect First Name", Type: crm.Text, MaxLength: 100, Aliases: []string{"Contact First Name"}, Example: "Jane"},
		{Key: crm.FieldProspectLastName, Label: "Prospect Last Name", Type: crm.Text, MaxLength: 100, Aliases: []string{"Contact Last Name"}, Example: "Doe"},
	}
}
