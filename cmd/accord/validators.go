package main

import (
	"fmt"
	"os"
	"time"

	"github.com/accord-fhir/accord/internal/conformance"
	"github.com/accord-fhir/accord/internal/validation"
	"github.com/accord-fhir/accord/profiles"
)

// guideFiles are the conformance resources of the embedded implementation guide that the API serves.
const guideFiles = "ig/*.json"

// validators builds the validation pipeline from the embedded implementation guide, with the rule levels of
// the configuration (levels wins over the entries of levelsFile), and the catalog of the guide's conformance
// resources.
func validators(levels, levelsFile string) (*validation.Pipeline, *conformance.Catalog, error) {
	v, err := pipeline(levels, levelsFile, false)
	if err != nil {
		return nil, nil, err
	}
	cat, err := conformance.Load(profiles.FS, time.Now(), guideFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("load the implementation guide: %w", err)
	}
	return v, cat, nil
}

// pipeline loads the validation pipeline of the embedded guide with the rule levels of the configuration;
// bestPractice reports the best-practice constraints of the base definitions (dom-6) too.
func pipeline(levels, levelsFile string, bestPractice bool) (*validation.Pipeline, error) {
	lv, err := ruleLevels(levels, levelsFile)
	if err != nil {
		return nil, err
	}
	v, err := validation.Load(profiles.FS, validation.Options{Levels: lv, BestPractice: bestPractice})
	if err != nil {
		return nil, fmt.Errorf("load the implementation guide: %w", err)
	}
	return v, nil
}

// ruleLevels reads the rule levels of the file (when named) and of levels, the latter winning.
func ruleLevels(levels, file string) (validation.Levels, error) {
	out := validation.Levels{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("ACCORD_RULE_LEVELS_FILE: %w", err)
		}
		lv, err := validation.ParseLevels(string(data))
		if err != nil {
			return nil, fmt.Errorf("ACCORD_RULE_LEVELS_FILE %s: %w", file, err)
		}
		for k, v := range lv {
			out[k] = v
		}
	}
	lv, err := validation.ParseLevels(levels)
	if err != nil {
		return nil, fmt.Errorf("ACCORD_RULE_LEVELS: %w", err)
	}
	for k, v := range lv {
		out[k] = v
	}
	return out, nil
}
