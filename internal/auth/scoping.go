package auth

import "maps"

// ODSSystem is the identifier system of ODS organisation codes.
const ODSSystem = "https://fhir.nhs.uk/Id/ods-organization-code"

// TypeRule says, for one resource type, which elements decide who may see and who may write a resource of that
// type. Paths are dotted element names from the resource root ("restriction.recipient"); every element on the way
// may repeat. The organisations are found in the References at those paths: a literal "Organization/<id>" (whose
// Organization carries the ODS code as an identifier) or a logical Reference.identifier of system ODSSystem.
type TypeRule struct {
	// Shared resources (the directory: Organization, HealthcareService …) are visible to every client that holds a
	// scope for the type; Writers still decides who writes them.
	Shared bool
	// See lists the elements whose organisations may see the resource (besides the writers).
	See []string
	// Writers lists the elements of which one must name an organisation of a provider or GP system that writes
	// the resource (creates it, updates it, or deletes it): "writes as its organisations". A type with no writers
	// is written only by administrators.
	Writers []string
	// Patient lists the elements that reference the patient the resource is about: the patient's registered GP
	// practice (Patient.generalPractitioner) may see it.
	Patient []string
	// Self means the organisation is the resource itself (Organization): its own ODS identifiers.
	Self bool
	// Via lists elements whose References name another stored resource that itself names the organisations (an
	// Appointment's HealthcareService names its provider). The organisations so found are writers of the resource
	// and may see it, like those of Writers. Resolution goes one level deep only, and a reference whose target is
	// not stored names no organisation.
	Via []ViaRule
}

// ViaRule resolves organisations through referenced resources: the relative literal References at Path whose
// target type is a key of Targets name the organisations at that target's elements (Target's paths, relative to
// the target resource, resolved like Writers paths: ODS codes and "Organization/<id>"). References to other
// types, logical references and absolute references are ignored.
type ViaRule struct {
	// Path is the dotted element path, from the resource root, of the References to follow.
	Path string
	// Targets maps a referenced resource type to its elements naming organisations.
	Targets map[string][]string
}

// defaultPatientElements are the patient elements of types without a rule: their data is visible to the patient's
// GP practice only, and written only by administrators.
func defaultPatientElements() []string { return []string{"subject", "patient"} }

// ScopingRules returns the organisation-scoping table: for each resource type, the elements that give visibility
// and the elements a writer must name itself in. Types missing from the table are visible only to the GP practice
// of the patient they are about (through their subject or patient element) and to administrators, and are written
// only by administrators. It is data, documented here, and returned fresh so that nobody changes it in place.
func ScopingRules() map[string]TypeRule {
	rules := map[string]TypeRule{
		// The pending actions of the Consensus: owned by one organisation, requested by another.
		"Task": {See: []string{"restriction.recipient"}, Writers: []string{"requester", "owner"}, Patient: []string{"for"}},
		// Referrals: the referrer writes them; the provider they are sent to updates their status.
		"ServiceRequest":       {Writers: []string{"requester", "performer"}, Patient: []string{"subject"}},
		"Communication":        {See: []string{"recipient"}, Writers: []string{"sender"}, Patient: []string{"subject"}},
		"CommunicationRequest": {See: []string{"recipient"}, Writers: []string{"requester", "sender"}, Patient: []string{"subject"}},
		"Encounter":            {Writers: []string{"serviceProvider"}, Patient: []string{"subject"}},
		"EpisodeOfCare":        {Writers: []string{"managingOrganization"}, Patient: []string{"patient"}},
		"MedicationRequest": {See: []string{"performer", "dispenseRequest.performer"}, Writers: []string{"requester"},
			Patient: []string{"subject"}},
		"MedicationStatement": {Writers: []string{"informationSource"}, Patient: []string{"subject"}},
		"DiagnosticReport":    {See: []string{"resultsInterpreter"}, Writers: []string{"performer"}, Patient: []string{"subject"}},
		"Observation":         {Writers: []string{"performer"}, Patient: []string{"subject"}},
		"Procedure":           {Writers: []string{"performer.actor", "performer.onBehalfOf"}, Patient: []string{"subject"}},
		"DocumentReference":   {Writers: []string{"author", "custodian"}, Patient: []string{"subject"}},
		"Composition":         {Writers: []string{"author", "custodian"}, Patient: []string{"subject"}},
		"CarePlan":            {See: []string{"contributor"}, Writers: []string{"author"}, Patient: []string{"subject"}},
		"CareTeam":            {See: []string{"participant.member"}, Writers: []string{"managingOrganization"}, Patient: []string{"subject"}},
		"Consent":             {See: []string{"performer"}, Writers: []string{"organization"}, Patient: []string{"patient"}},
		"Flag":                {Writers: []string{"author"}, Patient: []string{"subject"}},
		"Condition":           {Patient: []string{"subject"}},
		"AllergyIntolerance":  {Patient: []string{"patient"}},
		// An appointment names no organisation itself (Consensus 6.2): it is written by, and visible to, the
		// organisation providing the service, role or location it is booked with and the organisations of the
		// referral it is based on; the patient's GP practice sees it too.
		"Appointment": {Patient: []string{"participant.actor"}, Via: []ViaRule{
			{Path: "participant.actor", Targets: map[string][]string{
				"HealthcareService": {"providedBy"},
				"PractitionerRole":  {"organization"},
				"Location":          {"managingOrganization"},
			}},
			{Path: "basedOn", Targets: map[string][]string{"ServiceRequest": {"performer", "requester"}}},
		}},
		// A patient record: its managing organisation and its registered GP practice.
		"Patient": {Writers: []string{"managingOrganization", "generalPractitioner"}},
		// The directory (Consensus 4.1, 5.5): read by everyone, written by the organisation it describes.
		"Organization":      {Shared: true, Self: true},
		"HealthcareService": {Shared: true, Writers: []string{"providedBy"}},
		"Location":          {Shared: true, Writers: []string{"managingOrganization"}},
		"PractitionerRole":  {Shared: true, Writers: []string{"organization"}},
		"Endpoint":          {Shared: true, Writers: []string{"managingOrganization"}},
		"Practitioner":      {Shared: true},
		"Medication":        {Shared: true},
	}
	return maps.Clone(rules)
}

// rule returns the rule of typ, or the default one.
func rule(rules map[string]TypeRule, typ string) TypeRule {
	if r, ok := rules[typ]; ok {
		return r
	}
	return TypeRule{Patient: defaultPatientElements()}
}
